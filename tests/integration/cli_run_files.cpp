// purpose: the job's files: input as output, foreign outputs, manifests, symlinks, BOM, repeats.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/child_process.hpp"
#include "common/contains.hpp"
#include "common/jsonl_job.hpp"
#include "common/reference_fixture.hpp"

namespace {

namespace fs = std::filesystem;
using promptpack::reference::generator_kind;
using promptpack::reference::reference_config;
using promptpack::test::check_echoed;
using promptpack::test::check_exactly_once;
using promptpack::test::contains;
using promptpack::test::int_at;
using promptpack::test::job_files;
using promptpack::test::job_input;
using promptpack::test::json_quoted;
using promptpack::test::numbered_prompts;
using promptpack::test::parse_records;
using promptpack::test::process_result;
using promptpack::test::read_file;
using promptpack::test::run_promptpack;
using promptpack::test::running_server;
using promptpack::test::string_at;
using promptpack::test::temp_dir;
using promptpack::test::write_file;

// Refusals happen before anything is sent: an endpoint that is never reached will do.
const std::string never_reached = "http://127.0.0.1:9/inference";

reference_config echo_config() {
  reference_config config;
  config.generator = generator_kind::echo;
  return config;
}

/// `run -q -i IN -o OUT --api-base API_BASE EXTRA...`
process_result run_job(const std::string& in, const std::string& out, const std::string& api_base,
                       const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"run", "-q", "-i", in, "-o", out, "--api-base", api_base};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_promptpack(args);
}

process_result run_job(const job_files& files, const std::string& api_base,
                       const std::vector<std::string>& extra = {}) {
  return run_job(files.in, files.out, api_base, extra);
}

/// The echo endpoint's success record for line `i` of `input`.
std::string echo_record(const job_input& input, std::size_t i) {
  return "{\"custom_id\":" + json_quoted(input.ids[i]) + ",\"output\":[" +
         json_quoted(input.prompts[i]) + "]}\n";
}

/// The first `n` lines of `text`.
std::string first_lines(const std::string& text, std::size_t n) {
  std::size_t end = 0;
  for (std::size_t i = 0; i < n; ++i) end = text.find('\n', end) + 1;
  return text.substr(0, end);
}

/// Whether a file was created 0644 or tighter: no execute bits, no write but the owner's.
bool at_most_0644(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && (info.st_mode & 0133) == 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_run_files)

BOOST_AUTO_TEST_CASE(the_input_as_output_is_refused_by_any_name_and_left_intact) {
  temp_dir dir;
  const std::string in = dir.file("in.jsonl");
  const std::string input = numbered_prompts(20).jsonl();
  write_file(in, input);
  fs::create_hard_link(in, dir.file("hard.jsonl"));
  fs::create_symlink("in.jsonl", dir.file("soft.jsonl"));
  fs::create_directory(dir.file("sub"));
  const std::vector<std::vector<std::string>> modes = {
      {}, {"--overwrite"}, {"--resume"}, {"--resume", "--retry-errors"}};
  for (const std::string& out : {in, dir.file("hard.jsonl"), dir.file("soft.jsonl"),
                                 dir.file("./in.jsonl"), dir.file("sub/../in.jsonl")}) {
    for (const auto& mode : modes) {
      BOOST_TEST_CONTEXT("-o " << out << " " << (mode.empty() ? "" : mode.back())) {
        const auto result = run_job(in, out, never_reached, mode);
        BOOST_TEST(result.exit_code == 2, "stderr: " << result.err);
        BOOST_TEST(contains(result.err, "same file"), result.err);
        BOOST_TEST((read_file(in) == input), "the input changed");
      }
    }
  }
  BOOST_TEST(!fs::exists(dir.file("in.jsonl.manifest.json")));
}

BOOST_AUTO_TEST_CASE(resume_refuses_an_output_with_a_line_that_is_no_record) {
  const auto input = numbered_prompts(10);
  job_files files(input.jsonl());
  const std::string foreign =
      echo_record(input, 0) + "a line of some other program\n" + echo_record(input, 1);
  write_file(files.out, foreign);
  const auto result = run_job(files, never_reached, {"--resume"});
  BOOST_TEST(result.exit_code == 2, "stderr: " << result.err);
  BOOST_TEST(contains(result.err, "line 2 "), result.err);
  BOOST_TEST(contains(result.err, "not a JSON object"), result.err);
  BOOST_TEST(contains(result.err, "--overwrite"), result.err);
  BOOST_TEST(read_file(files.out) == foreign, "a refused output is left as it was");

  // A copy of the input given as the output: its custom_ids are the job's, but it has no results.
  write_file(files.out, input.jsonl());
  const auto copy = run_job(files, never_reached, {"--resume"});
  BOOST_TEST(copy.exit_code == 2, "stderr: " << copy.err);
  BOOST_TEST(contains(copy.err, "line 1 "), copy.err);
  BOOST_TEST(contains(copy.err, "\"output\""), copy.err);
  BOOST_TEST(read_file(files.out) == input.jsonl());
}

BOOST_AUTO_TEST_CASE(resume_refuses_the_records_of_another_input) {
  const auto input = numbered_prompts(10);
  const auto other = numbered_prompts(10, "other-");
  job_files files(input.jsonl());
  const std::string records =
      echo_record(input, 0) + echo_record(input, 1) + echo_record(input, 2) + echo_record(other, 3);
  write_file(files.out, records);
  for (const auto& flags :
       std::vector<std::vector<std::string>>{{"--resume"}, {"--resume", "--force-resume"}}) {
    BOOST_TEST_CONTEXT(flags.back()) {
      const auto result = run_job(files, never_reached, flags);
      BOOST_TEST(result.exit_code == 2, "stderr: " << result.err);
      BOOST_TEST(contains(result.err, "line 4 "), result.err);
      BOOST_TEST(contains(result.err, "'other-3'"), result.err);
      BOOST_TEST(read_file(files.out) == records);
    }
  }
  // A shard's output holds only its own lines' records.
  write_file(files.out, echo_record(input, 0) + echo_record(input, 1));
  const auto shard = run_job(files, never_reached, {"--resume", "--shard", "0/2"});
  BOOST_TEST(shard.exit_code == 2, "stderr: " << shard.err);
  BOOST_TEST(contains(shard.err, "line 2 "), shard.err);
  BOOST_TEST(contains(shard.err, "shard 0/2"), shard.err);
}

BOOST_AUTO_TEST_CASE(resume_with_another_model_or_params_is_refused_unless_forced) {
  running_server server(echo_config());
  const auto input = numbered_prompts(300);
  job_files files(input.jsonl());
  const auto first = run_job(files, server.url(), {"--model", "custom/first"});
  BOOST_TEST_REQUIRE(first.exit_code == 0, "stderr: " << first.err);
  const std::string manifest = files.out + ".manifest.json";
  BOOST_TEST(contains(read_file(manifest), "custom/first"), read_file(manifest));
  const std::string interrupted = first_lines(read_file(files.out), 100);  // as if killed
  write_file(files.out, interrupted);

  const auto other_model = run_job(files, server.url(), {"--resume", "--model", "custom/second"});
  BOOST_TEST(other_model.exit_code == 2, "stderr: " << other_model.err);
  BOOST_TEST(contains(other_model.err, "'custom/first'"), other_model.err);
  BOOST_TEST(contains(other_model.err, "'custom/second'"), other_model.err);
  BOOST_TEST(contains(other_model.err, "--force-resume"), other_model.err);
  const auto other_params =
      run_job(files, server.url(), {"--resume", "--model", "custom/first", "--max-tokens", "64"});
  BOOST_TEST(other_params.exit_code == 2, "stderr: " << other_params.err);
  BOOST_TEST(contains(other_params.err, "max_tokens was 32, this job's is 64"), other_params.err);
  BOOST_TEST(read_file(files.out) == interrupted, "a refused resume changes nothing");
  BOOST_TEST(server.server.stats().prompts.load() == 300u, "nothing was sent");

  const auto forced =
      run_job(files, server.url(), {"--resume", "--force-resume", "--model", "custom/second"});
  BOOST_TEST(forced.exit_code == 0, "stderr: " << forced.err);
  BOOST_TEST(contains(forced.err, "--force-resume"), forced.err);
  const auto records = files.records();
  check_exactly_once(records, input.ids);
  check_echoed(records, input);
  BOOST_TEST(contains(read_file(manifest), "custom/second"), "the manifest names the last job");
}

BOOST_AUTO_TEST_CASE(resume_with_another_input_file_is_refused_but_a_moved_one_is_not) {
  running_server server(echo_config());
  const auto input = numbered_prompts(200);
  job_files files(input.jsonl());
  BOOST_TEST_REQUIRE(run_job(files, server.url()).exit_code == 0);
  const std::string interrupted = first_lines(read_file(files.out), 50);
  write_file(files.out, interrupted);

  // The same custom_ids with other prompts: its records would pass for the first input's.
  auto edited = input;
  for (auto& prompt : edited.prompts) prompt += " (v2)";
  const std::string other = files.dir.file("other.jsonl");
  write_file(other, edited.jsonl());
  const auto refused = run_job(other, files.out, server.url(), {"--resume"});
  BOOST_TEST(refused.exit_code == 2, "stderr: " << refused.err);
  BOOST_TEST(contains(refused.err, "other.jsonl"), refused.err);
  BOOST_TEST(contains(refused.err, "in.jsonl"), refused.err);
  BOOST_TEST(read_file(files.out) == interrupted);

  const std::string moved = files.dir.file("moved.jsonl");
  fs::rename(files.in, moved);
  const auto resumed = run_job(moved, files.out, server.url(), {"--resume"});
  BOOST_TEST(resumed.exit_code == 0, "stderr: " << resumed.err);
  check_exactly_once(files.records(), input.ids);
}

BOOST_AUTO_TEST_CASE(resume_with_other_endpoints_only_warns) {
  running_server first(echo_config());
  running_server second(echo_config());
  const auto input = numbered_prompts(200);
  job_files files(input.jsonl());
  BOOST_TEST_REQUIRE(run_job(files, first.url()).exit_code == 0);
  write_file(files.out, first_lines(read_file(files.out), 50));
  const auto resumed = run_job(files, second.url(), {"--resume"});
  BOOST_TEST(resumed.exit_code == 0, "stderr: " << resumed.err);
  BOOST_TEST(contains(resumed.err, "warning: the endpoints were " + first.url()), resumed.err);
  check_exactly_once(files.records(), input.ids);
  BOOST_TEST(second.server.stats().prompts.load() == 150u);
}

BOOST_AUTO_TEST_CASE(the_manifest_records_the_job_but_no_secret) {
  running_server server(echo_config());
  job_files files(numbered_prompts(5).jsonl());
  const auto result = run_job(files, server.url() + "?token=query-secret",
                              {"--api-key", "key-secret", "--header", "X-Team: header-secret",
                               "--model", "custom/m", "--temperature", "0.25"});
  BOOST_TEST(result.exit_code == 0, "stderr: " << result.err);
  const std::string manifest = read_file(files.out + ".manifest.json");
  BOOST_TEST(contains(manifest, json_quoted(fs::canonical(files.in).string())), manifest);
  BOOST_TEST(contains(manifest, "\"custom/m\""), manifest);
  BOOST_TEST(contains(manifest, "\"temperature\": 0.25"), manifest);
  BOOST_TEST(contains(manifest, json_quoted(server.url())), manifest);
  BOOST_TEST(!contains(manifest, "secret"), manifest);
  BOOST_TEST(at_most_0644(files.out));
  BOOST_TEST(at_most_0644(files.out + ".manifest.json"));
}

BOOST_AUTO_TEST_CASE(a_symlinked_output_writes_its_target_and_keeps_the_link) {
  auto failing = echo_config();
  failing.error_message_rate = 1;  // every answer an endpoint error: error records to retry
  running_server down(failing);
  running_server up(echo_config());
  const auto input = numbered_prompts(200);
  job_files files(input.jsonl());
  fs::create_directory(files.dir.file("data"));
  const std::string link = files.dir.file("link.jsonl");
  const std::string target = files.dir.file("data/target.jsonl");
  fs::create_symlink("data/target.jsonl", link);  // dangling: the job creates the target
  const auto check_link = [&] {
    BOOST_TEST(fs::is_symlink(link), "the link was replaced");
    BOOST_TEST(fs::read_symlink(link).string() == "data/target.jsonl");
  };

  const auto failed = run_job(files.in, link, down.url(), {"--retries", "0"});
  BOOST_TEST(failed.exit_code == 1, "stderr: " << failed.err);
  check_link();
  BOOST_TEST(parse_records(read_file(target)).lines == 200u);
  BOOST_TEST(fs::exists(target + ".manifest.json"), "the manifest is beside the target");
  BOOST_TEST(!fs::exists(link + ".manifest.json"));
  BOOST_TEST(at_most_0644(target));

  // The rewrite of --retry-errors renames a file over the target, not over the link.
  const auto retried = run_job(files.in, link, up.url(), {"--resume", "--retry-errors"});
  BOOST_TEST(retried.exit_code == 0, "stderr: " << retried.err);
  check_link();
  auto records = parse_records(read_file(target));
  check_exactly_once(records, input.ids);
  check_echoed(records, input);
  BOOST_TEST(!fs::exists(target + ".retry-errors.tmp"));
  BOOST_TEST(!fs::exists(link + ".retry-errors.tmp"));

  const auto overwritten = run_job(files.in, link, up.url(), {"--overwrite"});
  BOOST_TEST(overwritten.exit_code == 0, "stderr: " << overwritten.err);
  check_link();
  records = parse_records(read_file(target));
  check_exactly_once(records, input.ids);
}

BOOST_AUTO_TEST_CASE(a_directory_or_unreadable_input_creates_no_output) {
  temp_dir dir;
  const std::string out = dir.file("out.jsonl");
  for (const auto& flags : std::vector<std::vector<std::string>>{{}, {"--resume"}}) {
    const auto result = run_job(dir.file(""), out, never_reached, flags);
    BOOST_TEST(result.exit_code == 2, "stderr: " << result.err);
    BOOST_TEST(contains(result.err, "directory"), result.err);
    BOOST_TEST(!fs::exists(out), "an output was created");
    BOOST_TEST(!fs::exists(out + ".manifest.json"));
  }
  if (::geteuid() == 0) return;  // root reads any file
  const std::string locked = dir.file("locked.jsonl");
  write_file(locked, numbered_prompts(3).jsonl());
  fs::permissions(locked, fs::perms::none);
  const auto result = run_job(locked, out, never_reached, {"--resume"});
  BOOST_TEST(result.exit_code == 2, "stderr: " << result.err);
  BOOST_TEST(!fs::exists(out), "an output was created");
}

BOOST_AUTO_TEST_CASE(an_input_that_starts_with_a_byte_order_mark_is_read) {
  running_server server(echo_config());
  job_files files(
      "\xEF\xBB\xBF{\"custom_id\": \"first\", \"prompt\": \"one\"}\n"
      "{\"custom_id\": \"second\", \"prompt\": \"two\"}\n");
  const auto result = run_job(files, server.url());
  BOOST_TEST(result.exit_code == 0, "stderr: " << result.err);
  const auto records = files.records();
  check_exactly_once(records, {"first", "second"});
  BOOST_TEST(string_at(records.only("first"), "/output/0") == "one");
  const std::string output = read_file(files.out);
  const auto again = run_job(files, server.url(), {"--resume"});
  BOOST_TEST(again.exit_code == 0, "stderr: " << again.err);
  BOOST_TEST(read_file(files.out) == output, "nothing to add");
}

BOOST_AUTO_TEST_CASE(repeated_custom_ids_carry_their_line_and_are_counted) {
  running_server server(echo_config());
  const std::string chat = R"({"custom_id": "c", "method": "POST", "url": "/v1/chat/completions", )"
                           R"("body": {"messages": [{"role": "user", "content": "hi"}]}})";
  job_files files(std::string(R"({"custom_id": "a", "prompt": "1"})") + "\n" +  // 1
                  R"({"custom_id": "b", "prompt": "2"})" + "\n" +               // 2
                  R"({"custom_id": "a", "prompt": "3"})" + "\n" +               // 3
                  chat + "\n" +                                                 // 4
                  chat + "\n");                                                 // 5
  const auto result = run_promptpack(
      {"run", "-i", files.in, "-o", files.out, "--api-base", server.url()});  // with a summary
  BOOST_TEST(result.exit_code == 1, "stderr: " << result.err);
  BOOST_TEST(contains(result.err, "2 repeating an earlier custom_id"), result.err);
  const auto records = files.records();
  BOOST_TEST(records.lines == 5u);
  const auto line_of_error = [&](const std::string& id) {
    std::int64_t line = -1;
    for (const auto& record : records.by_id.at(id)) {
      if (int_at(record, "/error/line") > 0) line = int_at(record, "/error/line");
    }
    return line;
  };
  BOOST_TEST(line_of_error("a") == 3);
  BOOST_TEST(line_of_error("c") == 5);
  BOOST_TEST(line_of_error("b") == -1);
}

BOOST_AUTO_TEST_SUITE_END()
