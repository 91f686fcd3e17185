// Tests for the job's view of its input: which lines get records, and the custom_ids they have.
#include "run/job_input.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/jsonl_job.hpp"
#include "run/custom_id_hash.hpp"

namespace {

namespace run = promptpack::run;
using promptpack::test::temp_dir;
using promptpack::test::write_file;

run::input_line line_of(std::string_view text, std::uint64_t number, bool too_long = false) {
  run::input_line line;
  line.text = text;
  line.number = number;
  line.too_long = too_long;
  return line;
}

run::run_options shard(std::uint64_t index, std::uint64_t count) {
  run::run_options options;
  options.shard_index = index;
  options.shard_count = count;
  return options;
}

// The input file of a test, open for reading.
class input_file {
 public:
  explicit input_file(std::string_view content) {
    write_file(path_, content);
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    BOOST_TEST_REQUIRE(fd_ >= 0);
  }
  ~input_file() { ::close(fd_); }
  input_file(const input_file&) = delete;
  input_file& operator=(const input_file&) = delete;

  int fd() const { return fd_; }

 private:
  temp_dir dir_;
  std::string path_ = dir_.file("in.jsonl");
  int fd_ = -1;
};

bool has(const run::id_counter& ids, std::string_view id) {
  return ids.count(run::custom_id_hash(id)) > 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(job_input)

BOOST_AUTO_TEST_CASE(blank_lines_and_other_shards_get_no_record) {
  const run::run_options all{};
  BOOST_TEST(run::is_job_line(line_of("{}", 1), all));
  BOOST_TEST(!run::is_job_line(line_of("", 1), all));
  BOOST_TEST(!run::is_job_line(line_of(" \t ", 1), all));
  BOOST_TEST(run::is_job_line(line_of(" \t{}", 1), all));  // blanks first, then the line
  BOOST_TEST(run::is_job_line(line_of("", 1, /*too_long=*/true), all));
  const auto second_of_three = shard(1, 3);
  BOOST_TEST(!run::is_job_line(line_of("{}", 1), second_of_three));
  BOOST_TEST(run::is_job_line(line_of("{}", 2), second_of_three));
  BOOST_TEST(!run::is_job_line(line_of("{}", 3), second_of_three));
  BOOST_TEST(run::is_job_line(line_of("{}", 5), second_of_three));
}

BOOST_AUTO_TEST_CASE(a_too_long_line_is_named_by_its_number) {
  run::run_options options;
  options.max_line_bytes = 100;
  run::line_parser parser;
  run::job_line parsed;
  std::string error;
  BOOST_TEST(
      !run::decode_job_line(parser, line_of("", 7, /*too_long=*/true), options, parsed, error));
  BOOST_TEST(parsed.custom_id == "7");
  BOOST_TEST(error.find("--max-line-bytes (100 bytes)") != std::string::npos, error);
}

BOOST_AUTO_TEST_CASE(a_too_long_line_keeps_nothing_of_the_line_before) {
  run::run_options options;
  run::line_parser parser;
  run::job_line parsed;
  std::string error;
  std::string before = R"({"custom_id":"a","prompt":"p","max_tokens":5})";
  const std::size_t length = before.size();
  before.append(run::line_parser::padding(), ' ');
  BOOST_TEST_REQUIRE(
      run::decode_job_line(parser, line_of({before.data(), length}, 1), options, parsed, error));
  BOOST_TEST_REQUIRE(!parsed.overrides.empty());
  BOOST_TEST(
      !run::decode_job_line(parser, line_of("", 2, /*too_long=*/true), options, parsed, error));
  BOOST_TEST(parsed.custom_id == "2");
  BOOST_TEST(!parsed.has_custom_id);
  BOOST_TEST(parsed.prompt.empty());
  BOOST_TEST(parsed.overrides.empty());
}

BOOST_AUTO_TEST_CASE(custom_ids_are_those_the_job_gives_its_records) {
  const input_file input(
      "\xEF\xBB\xBF{\"custom_id\": \"a\", \"prompt\": \"x\"}\n"  // 1, after a byte-order mark
      "\n"                                                       // 2: blank, no record
      "{\"prompt\": \"no id\"}\n"                                // 3: its line number
      "not JSON\n"                                               // 4: its line number
      "{\"custom_id\": 17, \"prompt\": \"x\"}\n"                 // 5: a number, as text
      "{\"custom_id\": \"a\", \"prompt\": \"again\"}\n");        // 6: a repeated id
  const auto ids = run::job_custom_ids(input.fd(), run::run_options{}, 6);
  BOOST_TEST(ids.size() == 4u);
  for (const char* id : {"a", "3", "4", "17"}) BOOST_TEST(has(ids, id), id);
  for (const char* id : {"1", "2", "5", "6", "no id"}) BOOST_TEST(!has(ids, id), id);
  BOOST_TEST(ids.count(run::custom_id_hash("a")) == 2u);
}

BOOST_AUTO_TEST_CASE(a_shard_has_only_its_lines_ids) {
  const input_file input("{\"prompt\": \"1\"}\n{\"prompt\": \"2\"}\n{\"prompt\": \"3\"}\n");
  const auto ids = run::job_custom_ids(input.fd(), shard(0, 2), 3);
  BOOST_TEST(ids.size() == 2u);
  BOOST_TEST(has(ids, "1"));
  BOOST_TEST(has(ids, "3"));
  BOOST_TEST(!has(ids, "2"));
}

BOOST_AUTO_TEST_CASE(the_file_position_is_restored) {
  const std::string text = "{\"prompt\": \"1\"}\n{\"prompt\": \"2\"}\n";
  const input_file input(text);
  run::job_custom_ids(input.fd(), run::run_options{}, 2);
  std::string again(text.size() + 1, '\0');
  BOOST_TEST(::read(input.fd(), again.data(), again.size()) == static_cast<ssize_t>(text.size()));
  BOOST_TEST(again.substr(0, text.size()) == text);
}

BOOST_AUTO_TEST_SUITE_END()
