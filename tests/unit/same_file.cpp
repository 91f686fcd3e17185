// Tests for the same-file check: every spelling, hard and soft links, missing and other files.
#include "run/same_file.hpp"

#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "common/jsonl_job.hpp"

namespace {

namespace run = promptpack::run;
using promptpack::test::temp_dir;
using promptpack::test::write_file;

struct stat stat_of(const std::string& path) {
  struct stat info {};
  BOOST_TEST_REQUIRE(::stat(path.c_str(), &info) == 0, path);
  return info;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(same_file)

BOOST_AUTO_TEST_CASE(every_name_of_the_input_is_the_input) {
  temp_dir dir;
  const std::string in = dir.file("in.jsonl");
  write_file(in, "{}\n");
  const struct stat input = stat_of(in);
  std::filesystem::create_hard_link(in, dir.file("hard"));
  std::filesystem::create_symlink(in, dir.file("soft"));
  std::filesystem::create_symlink("soft", dir.file("soft-to-soft"));  // relative, two hops
  std::filesystem::create_directory(dir.file("sub"));
  for (const std::string& name :
       {in, dir.file("hard"), dir.file("soft"), dir.file("soft-to-soft"),
        dir.file("sub") + "/../in.jsonl", dir.file(".") + "/./in.jsonl"}) {
    BOOST_TEST(run::is_same_file(input, name), name);
  }
}

BOOST_AUTO_TEST_CASE(other_and_missing_files_are_not) {
  temp_dir dir;
  const std::string in = dir.file("in.jsonl");
  write_file(in, "{}\n");
  write_file(dir.file("copy"), "{}\n");
  const struct stat input = stat_of(in);
  BOOST_TEST(!run::is_same_file(input, dir.file("copy")));
  BOOST_TEST(!run::is_same_file(input, dir.file("missing")));
  std::filesystem::create_symlink("missing", dir.file("dangling"));
  BOOST_TEST(!run::is_same_file(input, dir.file("dangling")));
}

BOOST_AUTO_TEST_CASE(only_regular_files_count) {
  // /dev/null as input and output reads nothing back: nothing to protect.
  const struct stat null = stat_of("/dev/null");
  BOOST_TEST(!run::is_same_file(null, "/dev/null"));
}

BOOST_AUTO_TEST_SUITE_END()
