// Tests for reading an output back: records counted, torn tails cut, foreign lines refused.
#include "run/resume_state.hpp"

#include <boost/test/unit_test.hpp>

#include <promptpack/error.hpp>

#include <sys/stat.h>

#include <initializer_list>
#include <string>
#include <string_view>

#include "common/contains.hpp"
#include "common/jsonl_job.hpp"
#include "run/custom_id_hash.hpp"
#include "run/job_line.hpp"
#include "run/record_format.hpp"

namespace {

namespace run = promptpack::run;
using promptpack::test::contains;
using promptpack::test::read_file;
using promptpack::test::temp_dir;
using promptpack::test::write_file;

const std::string success = "{\"custom_id\":\"a\",\"output\":[\"x\"]}\n";
const std::string failure =
    "{\"custom_id\":\"b\",\"error\":{\"type\":\"timeout\",\"message\":\"slow\"}}\n";
const std::string openai_success =
    "{\"id\":\"batch_req_1\",\"custom_id\":\"c\",\"response\":{\"status_code\":200},"
    "\"error\":null}\n";

run::id_counter ids_of(std::initializer_list<std::string_view> ids) {
  run::id_counter counter;
  for (const auto id : ids) counter.add(run::custom_id_hash(id));
  return counter;
}

// The refusal of the output `text`, or "" when it is read without one. The file must be left
// exactly as it was.
std::string refusal(const std::string& text, const run::id_counter* job_ids = nullptr) {
  temp_dir dir;
  const std::string out = dir.file("out.jsonl");
  write_file(out, text);
  std::string what;
  try {
    run::load_resume_state(out, /*drop_errors=*/true, job_ids);
  } catch (const run::foreign_output_error& e) {
    what = e.what();
    BOOST_TEST(read_file(out) == text, "a refused output is left as it was");
  }
  return what;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(resume_state)

BOOST_AUTO_TEST_CASE(records_are_counted_and_a_torn_tail_cut) {
  temp_dir dir;
  const std::string out = dir.file("out.jsonl");
  write_file(out, success + "\n" + failure + openai_success + "{\"custom_id\":\"d\",\"out");
  const auto job_ids = ids_of({"a", "b", "c", "d"});
  const auto state = run::load_resume_state(out, false, &job_ids);
  BOOST_TEST(state.records == 3u);
  BOOST_TEST(state.errors == 1u);
  BOOST_TEST(state.torn_bytes == 21u);
  BOOST_TEST(state.done.count(run::custom_id_hash("c")) == 1u);
  BOOST_TEST(state.done.count(run::custom_id_hash("d")) == 0u);
  BOOST_TEST(read_file(out) == success + "\n" + failure + openai_success);
}

BOOST_AUTO_TEST_CASE(a_line_that_is_no_record_is_refused_by_its_number) {
  const std::string earlier = success + failure;
  std::string what = refusal(earlier + "garbage\n" + openai_success);
  BOOST_TEST(contains(what, "line 3 "), what);
  BOOST_TEST(contains(what, "not a JSON object"), what);
  what = refusal(earlier + "{\"output\":[\"x\"]}\n");
  BOOST_TEST(contains(what, "line 3 "), what);
  BOOST_TEST(contains(what, "custom_id"), what);
  // An input line has a custom_id but no result: someone gave -o the input of a job.
  what = refusal("{\"custom_id\":\"a\",\"prompt\":\"x\"}\n");
  BOOST_TEST(contains(what, "line 1 "), what);
  BOOST_TEST(contains(what, "\"output\""), what);
  // Refused before the torn tail is cut.
  what = refusal(earlier + "garbage\n{\"custom_id\":\"d\",\"out");
  BOOST_TEST(contains(what, "line 3 "), what);
}

BOOST_AUTO_TEST_CASE(a_record_of_another_input_is_refused_by_its_number) {
  const auto job_ids = ids_of({"a", "b"});
  BOOST_TEST(refusal(success + failure, &job_ids) == "");
  const std::string what = refusal(success + openai_success + failure, &job_ids);
  BOOST_TEST(contains(what, "line 2 "), what);
  BOOST_TEST(contains(what, "'c'"), what);
}

BOOST_AUTO_TEST_CASE(an_openai_record_of_an_http_error_is_an_error_record) {
  // OpenAI's form writes an endpoint's HTTP error as the response, with "error": null.
  std::string http_failure;
  run::append_error(http_failure, "\"e\"", run::line_form::openai_chat,
                    promptpack::prompt_error{promptpack::errc::http_status, "HTTP 429", 429, 4});
  temp_dir dir;
  const std::string out = dir.file("out.jsonl");
  write_file(out, success + openai_success + http_failure);
  const auto state = run::load_resume_state(out, /*drop_errors=*/false, nullptr);
  BOOST_TEST(state.records == 3u);
  BOOST_TEST(state.errors == 1u);
  BOOST_TEST(state.done.count(run::custom_id_hash("e")) == 1u);
  const auto retried = run::load_resume_state(out, /*drop_errors=*/true, nullptr);
  BOOST_TEST(retried.dropped == 1u);
  BOOST_TEST(read_file(out) == success + openai_success);
}

BOOST_AUTO_TEST_CASE(retry_errors_keeps_the_outputs_permissions) {
  temp_dir dir;
  const std::string out = dir.file("out.jsonl");
  write_file(out, success + failure);
  BOOST_TEST_REQUIRE(::chmod(out.c_str(), 0600) == 0);
  const auto state = run::load_resume_state(out, /*drop_errors=*/true, nullptr);
  BOOST_TEST(state.dropped == 1u);
  BOOST_TEST(read_file(out) == success);
  struct stat info {};
  BOOST_TEST_REQUIRE(::stat(out.c_str(), &info) == 0);
  BOOST_TEST((info.st_mode & 0777) == 0600u);
}

BOOST_AUTO_TEST_SUITE_END()
