// Tests for resolving the output path: plain files, symlink chains, dangling links, devices.
#include "run/output_path.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <string>

#include "common/jsonl_job.hpp"

namespace {

namespace fs = std::filesystem;
namespace run = promptpack::run;
using promptpack::test::temp_dir;
using promptpack::test::write_file;

// The canonical form of a path that exists, to compare resolved paths with.
std::string real(const std::string& path) {
  return fs::canonical(path).string();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(output_path)

BOOST_AUTO_TEST_CASE(an_existing_file_resolves_to_its_real_path) {
  temp_dir dir;
  write_file(dir.file("out.jsonl"), "");
  fs::create_directory(dir.file("sub"));
  BOOST_TEST(run::resolve_output_path(dir.file("out.jsonl")) == real(dir.file("out.jsonl")));
  BOOST_TEST(run::resolve_output_path(dir.file("sub") + "/../out.jsonl") ==
             real(dir.file("out.jsonl")));
}

BOOST_AUTO_TEST_CASE(a_symlink_chain_resolves_to_its_target) {
  temp_dir dir;
  fs::create_directory(dir.file("data"));
  write_file(dir.file("data/target.jsonl"), "");
  fs::create_symlink("data/target.jsonl", dir.file("link"));  // relative to the link's folder
  fs::create_symlink(dir.file("link"), dir.file("link-to-link"));
  BOOST_TEST(run::resolve_output_path(dir.file("link")) == real(dir.file("data/target.jsonl")));
  BOOST_TEST(run::resolve_output_path(dir.file("link-to-link")) ==
             real(dir.file("data/target.jsonl")));
}

BOOST_AUTO_TEST_CASE(a_dangling_symlink_resolves_to_the_file_it_would_create) {
  temp_dir dir;
  fs::create_directory(dir.file("data"));
  fs::create_symlink("data/new.jsonl", dir.file("link"));
  fs::create_symlink("link", dir.file("link-to-link"));
  const std::string expected = real(dir.file("data")) + "/new.jsonl";
  BOOST_TEST(run::resolve_output_path(dir.file("link")) == expected);
  BOOST_TEST(run::resolve_output_path(dir.file("link-to-link")) == expected);
}

BOOST_AUTO_TEST_CASE(a_missing_file_keeps_its_name_in_its_real_folder) {
  temp_dir dir;
  fs::create_directory(dir.file("data"));
  fs::create_directory_symlink(dir.file("data"), dir.file("folder-link"));
  BOOST_TEST(run::resolve_output_path(dir.file("folder-link") + "/out.jsonl") ==
             real(dir.file("data")) + "/out.jsonl");
}

BOOST_AUTO_TEST_CASE(what_is_no_regular_file_is_left_as_given) {
  temp_dir dir;
  BOOST_TEST(run::resolve_output_path("/dev/null") == "/dev/null");
  BOOST_TEST(run::resolve_output_path(dir.file("")) == dir.file(""));  // a folder
  fs::create_symlink("loop-b", dir.file("loop-a"));
  fs::create_symlink("loop-a", dir.file("loop-b"));
  BOOST_TEST(run::resolve_output_path(dir.file("loop-a")) == dir.file("loop-a"));
}

BOOST_AUTO_TEST_SUITE_END()
