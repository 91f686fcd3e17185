// purpose: the real `promptpack run` against in-process endpoints: forms, errors, pipes, shards.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <initializer_list>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/child_process.hpp"
#include "common/contains.hpp"
#include "common/dead_port.hpp"
#include "common/jsonl_job.hpp"
#include "common/reference_fixture.hpp"
#include "common/test_ca.hpp"

namespace {

using promptpack::reference::generator_kind;
using promptpack::reference::reference_config;
using promptpack::test::check_echoed;
using promptpack::test::check_exactly_once;
using promptpack::test::child_process;
using promptpack::test::contains;
using promptpack::test::dead_port;
using promptpack::test::int_at;
using promptpack::test::is_null_at;
using promptpack::test::job_files;
using promptpack::test::job_input;
using promptpack::test::json_quoted;
using promptpack::test::no_string;
using promptpack::test::numbered_prompts;
using promptpack::test::parse_records;
using promptpack::test::process_result;
using promptpack::test::read_file;
using promptpack::test::record_set;
using promptpack::test::run_promptpack;
using promptpack::test::running_server;
using promptpack::test::string_at;
using promptpack::test::test_ca;
using promptpack::test::write_file;

reference_config server_config(generator_kind generator = generator_kind::echo) {
  reference_config config;
  config.generator = generator;
  return config;
}

/// Input lines, each followed by '\n'.
std::string jsonl(std::initializer_list<std::string_view> lines) {
  std::string text;
  for (const auto line : lines) text.append(line).push_back('\n');
  return text;
}

/// `run -i IN -o OUT --api-base API_BASE EXTRA...`
std::vector<std::string> run_args(const job_files& files, const std::string& api_base,
                                  const std::vector<std::string>& extra) {
  std::vector<std::string> args{"run", "-i", files.in, "-o", files.out, "--api-base", api_base};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

struct job_result {
  process_result process;
  record_set records;
};

/// Runs one job over `input` against `api_base` and reads back its output.
job_result run_job(std::string_view input, const std::string& api_base,
                   const std::vector<std::string>& extra = {}) {
  job_files files(input);
  auto process = run_promptpack(run_args(files, api_base, extra));
  return {std::move(process), files.records()};
}

std::string dead_api_base() {
  return "http://127.0.0.1:" + std::to_string(dead_port()) + "/inference";
}

/// The error type of a record; no_string for a success.
std::string error_type(const std::string& record) {
  return string_at(record, "/error/type");
}

std::size_t word_count(const std::string& text) {
  std::istringstream words(text);
  std::size_t n = 0;
  for (std::string word; words >> word;) ++n;
  return n;
}

/// Checks that every record of `r` is an error of `type`, and the exit status is 1.
void check_all_failed_with(const job_result& r, const job_input& input, std::string_view type) {
  BOOST_TEST(r.process.exit_code == 1, "stderr: " << r.process.err);
  check_exactly_once(r.records, input.ids);
  for (const auto& id : input.ids) {
    const std::string record = r.records.only(id);
    BOOST_TEST(error_type(record) == type, record);
    BOOST_TEST(string_at(record, "/error/message") != no_string, record);
  }
}

/// The record of `id` in the OpenAI Batch API output format, checked for its fixed fields.
std::string check_openai_success(const record_set& records, const std::string& id,
                                 std::string_view object) {
  const std::string record = records.only(id);
  BOOST_TEST(string_at(record, "/id").starts_with("batch_req_"), record);
  BOOST_TEST(int_at(record, "/response/status_code") == 200, record);
  BOOST_TEST(string_at(record, "/response/request_id") != no_string, record);
  BOOST_TEST(string_at(record, "/response/body/object") == object, record);
  BOOST_TEST(is_null_at(record, "/error"), record);
  return record;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_run)

BOOST_AUTO_TEST_CASE(prompt_lines_get_output_records) {
  running_server server(server_config());
  const auto r = run_job(jsonl({R"({"custom_id": "a1", "prompt": "The capital of France is P"})",
                                R"({"prompt": "second", "custom_id": "a2"})"}),
                         server.url());
  BOOST_TEST(r.process.exit_code == 0, "stderr: " << r.process.err);
  check_exactly_once(r.records, {"a1", "a2"});
  const std::string a1 = r.records.only("a1");
  BOOST_TEST(string_at(a1, "/output/0") == "The capital of France is P", a1);
  BOOST_TEST(error_type(a1) == no_string, a1);
  BOOST_TEST(string_at(r.records.only("a2"), "/output/0") == "second");
}

BOOST_AUTO_TEST_CASE(messages_are_joined_with_one_space) {
  running_server server(server_config());
  const auto r =
      run_job(jsonl({R"({"custom_id": "m", "messages": [{"role": "system", "content": "a"},)"
                     R"( {"role": "user", "content": "b"}]})"}),
              server.url());
  BOOST_TEST(r.process.exit_code == 0, "stderr: " << r.process.err);
  BOOST_TEST(string_at(r.records.only("m"), "/output/0") == "a b");
}

BOOST_AUTO_TEST_CASE(openai_batch_lines_get_openai_batch_records) {
  running_server server(server_config());
  const auto r = run_job(
      jsonl({R"({"custom_id": "chat", "method": "POST", "url": "/v1/chat/completions", "body": )"
             R"({"model": "my-chat-model", "messages": [{"role": "system", "content": "a"}, )"
             R"({"role": "user", "content": "b"}], "max_tokens": 10}})",
             R"({"body": {"model": "my-text-model", "prompt": "complete me"}, )"
             R"("url": "/v1/completions", "method": "POST", "custom_id": "text"})"}),
      server.url());
  BOOST_TEST(r.process.exit_code == 0, "stderr: " << r.process.err);
  check_exactly_once(r.records, {"chat", "text"});
  const auto chat = check_openai_success(r.records, "chat", "chat.completion");
  BOOST_TEST(string_at(chat, "/response/body/choices/0/message/content") == "a b", chat);
  BOOST_TEST(string_at(chat, "/response/body/model") == "my-chat-model", chat);
  const auto text = check_openai_success(r.records, "text", "text_completion");
  BOOST_TEST(string_at(text, "/response/body/choices/0/text") == "complete me", text);
  BOOST_TEST(string_at(text, "/response/body/model") == "my-text-model", text);
}

BOOST_AUTO_TEST_CASE(per_line_fields_override_the_command_line) {
  running_server server(server_config(generator_kind::text));
  const auto r = run_job(
      jsonl({R"({"custom_id": "default", "prompt": "same prompt"})",
             R"({"custom_id": "three", "prompt": "same prompt", "max_tokens": 3})",
             R"({"custom_id": "twelve", "prompt": "same prompt", "max_tokens": 12})",
             R"({"custom_id": "two-samples", "prompt": "same prompt", "n": 2})",
             R"({"custom_id": "chat", "method": "POST", "url": "/v1/chat/completions", "body": )"
             R"({"model": "override-model", "max_tokens": 7, )"
             R"("messages": [{"role": "user", "content": "same prompt"}]}})"}),
      server.url(), {"--max-tokens", "5", "--model", "custom/command-line-model"});
  BOOST_TEST(r.process.exit_code == 0, "stderr: " << r.process.err);
  const auto words = [&](const std::string& id, std::string_view pointer) {
    const std::string text = string_at(r.records.only(id), pointer);
    return text == no_string ? 0 : word_count(text);
  };
  BOOST_TEST(words("default", "/output/0") == 5u);
  BOOST_TEST(words("three", "/output/0") == 3u);
  BOOST_TEST(words("twelve", "/output/0") == 12u);
  BOOST_TEST(words("two-samples", "/output/1") == 5u);  // "n" passes through: every output kept
  BOOST_TEST(words("chat", "/response/body/choices/0/message/content") == 7u);
  BOOST_TEST(string_at(r.records.only("chat"), "/response/body/model") == "override-model");
}

BOOST_AUTO_TEST_CASE(a_missing_custom_id_becomes_the_line_number) {
  running_server server(server_config());
  const auto r =
      run_job(jsonl({R"({"prompt": "first"})", R"({"custom_id": "x", "prompt": "second"})",
                     R"({"messages": [{"role": "user", "content": "third"}]})"}),
              server.url());
  BOOST_TEST(r.process.exit_code == 0, "stderr: " << r.process.err);
  check_exactly_once(r.records, {"1", "x", "3"});
  BOOST_TEST(string_at(r.records.only("1"), "/output/0") == "first");
  BOOST_TEST(string_at(r.records.only("3"), "/output/0") == "third");
}

BOOST_AUTO_TEST_CASE(thousands_of_lines_get_exactly_one_record_each) {
  running_server server(server_config());
  const auto input = numbered_prompts(5000);
  const auto r = run_job(input.jsonl(), server.url(), {"--batch-size", "64", "--connections", "4"});
  BOOST_TEST(r.process.exit_code == 0, "stderr: " << r.process.err);
  check_exactly_once(r.records, input.ids);
  check_echoed(r.records, input);
  BOOST_TEST(server.server.stats().prompts.load() == 5000u);
}

BOOST_AUTO_TEST_CASE(bad_lines_get_invalid_input_records_and_the_job_goes_on) {
  running_server server(server_config());
  const std::string huge = R"({"custom_id": "huge", "prompt": ")" + std::string(300, 'x') + "\"}";
  const auto r =
      run_job(jsonl({R"({"custom_id": "good", "prompt": "fine"})",                      // 1
                     "this is not JSON",                                                // 2
                     R"({"custom_id": "no-prompt", "max_tokens": 4})",                  // 3
                     "{\"custom_id\": \"bad-utf8\", \"prompt\": \"\xff\xfe\"}",         // 4
                     R"({"custom_id": "good", "prompt": "the same custom_id again"})",  // 5
                     huge,                                                              // 6
                     R"({"custom_id": "embeddings", "method": "POST", "url": "/v1/embeddings", )"
                     R"("body": {"model": "m", "input": "x"}})",                // 7
                     R"({"custom_id": "lone-surrogate", "prompt": "\udc80"})",  // 8
                     R"({"custom_id": "good2", "prompt": "also fine"})"}),      // 9
              server.url(), {"--max-line-bytes", "200"});
  BOOST_TEST(r.process.exit_code == 1, "stderr: " << r.process.err);
  BOOST_TEST(r.records.lines == 9u, "one record per line");
  const auto check_invalid = [&](const std::string& id, std::string_view about) {
    const std::string record = r.records.only(id);
    BOOST_TEST(error_type(record) == "invalid_input", record);
    BOOST_TEST(contains(string_at(record, "/error/message"), about), record);
  };
  check_invalid("2", "JSON");
  check_invalid("no-prompt", "prompt");
  // Invalid UTF-8 makes the whole line unreadable, so its custom_id may be the line number.
  const std::string utf8_id = r.records.count("bad-utf8") != 0 ? "bad-utf8" : "4";
  check_invalid(utf8_id, "");
  check_invalid("6", "max-line-bytes");
  check_invalid("embeddings", "/v1/embeddings");
  check_invalid("lone-surrogate", "");
  BOOST_TEST(string_at(r.records.only("good2"), "/output/0") == "also fine");
  // The first "good" is answered; the second gets the duplicate error.
  BOOST_TEST_REQUIRE(r.records.count("good") == 2u);
  const auto& goods = r.records.by_id.at("good");
  const bool first_ok = string_at(goods[0], "/output/0") == "fine";
  const std::string& duplicate = goods[first_ok ? 1 : 0];
  BOOST_TEST(string_at(goods[first_ok ? 0 : 1], "/output/0") == "fine");
  BOOST_TEST(error_type(duplicate) == "invalid_input", duplicate);
  BOOST_TEST(contains(duplicate, "line 5"), duplicate);
  BOOST_TEST(server.server.stats().prompts.load() == 2u, "only the good lines are sent");
}

BOOST_AUTO_TEST_CASE(crlf_blank_lines_and_a_last_line_without_newline_are_read) {
  running_server server(server_config());
  const auto r = run_job(
      "{\"custom_id\": \"crlf\", \"prompt\": \"one\"}\r\n"
      "\n"  // blank: no record, but it is line 2
      "{\"prompt\": \"three\"}\n"
      "{\"custom_id\": \"last\", \"prompt\": \"four\"}",
      server.url());
  BOOST_TEST(r.process.exit_code == 0, "stderr: " << r.process.err);
  check_exactly_once(r.records, {"crlf", "3", "last"});
  BOOST_TEST(string_at(r.records.only("crlf"), "/output/0") == "one");
  BOOST_TEST(string_at(r.records.only("3"), "/output/0") == "three");
  BOOST_TEST(string_at(r.records.only("last"), "/output/0") == "four");
}

BOOST_AUTO_TEST_CASE(megabyte_prompts_round_trip) {
  running_server server(server_config());
  job_input input = numbered_prompts(20);
  for (const std::size_t i : {3u, 4u, 11u}) {
    input.prompts[i] =
        std::string(1u << 20, 'a' + static_cast<char>(i)) + " \"end\" " + input.ids[i];
  }
  const auto r = run_job(input.jsonl(), server.url());
  BOOST_TEST(r.process.exit_code == 0, "stderr: " << r.process.err);
  check_exactly_once(r.records, input.ids);
  check_echoed(r.records, input);
}

BOOST_AUTO_TEST_CASE(batches_over_the_servers_limit_are_split_and_all_succeed) {
  auto config = server_config();
  config.max_batch = 2;  // 413 for more
  running_server server(config);
  const auto input = numbered_prompts(100);
  const auto r = run_job(input.jsonl(), server.url(), {"--batch-size", "16"});
  BOOST_TEST(r.process.exit_code == 0, "stderr: " << r.process.err);
  check_exactly_once(r.records, input.ids);
  check_echoed(r.records, input);
}

BOOST_AUTO_TEST_CASE(rejected_prompts_alone_get_http_status_records) {
  auto config = server_config();
  config.reject_substring = "FORBIDDEN";
  running_server server(config);
  auto input = numbered_prompts(40);
  input.prompts[5] += " FORBIDDEN";
  input.prompts[17] += " FORBIDDEN";
  const std::string openai_line =
      R"({"custom_id": "openai", "method": "POST", "url": "/v1/completions", )"
      R"("body": {"model": "m", "prompt": "FORBIDDEN too"}})";
  const auto r = run_job(input.jsonl() + openai_line + "\n", server.url(), {"--batch-size", "16"});
  BOOST_TEST(r.process.exit_code == 1, "stderr: " << r.process.err);
  auto ids = input.ids;
  ids.push_back("openai");
  check_exactly_once(r.records, ids);
  for (std::size_t i = 0; i < input.ids.size(); ++i) {
    const std::string record = r.records.only(input.ids[i]);
    if (i == 5 || i == 17) {
      BOOST_TEST(error_type(record) == "http_status", record);
      BOOST_TEST(int_at(record, "/error/http_status") == 400, record);
    } else {
      BOOST_TEST(string_at(record, "/output/0") == input.prompts[i], record);
    }
  }
  // OpenAI's format for a request its endpoint refused: the status and error body as response.
  const std::string openai = r.records.only("openai");
  BOOST_TEST(int_at(openai, "/response/status_code") == 400, openai);
  BOOST_TEST(string_at(openai, "/response/body/error/type") == "invalid_request_error", openai);
  BOOST_TEST(string_at(openai, "/response/body/error/code") == "http_status", openai);
  BOOST_TEST(is_null_at(openai, "/error"), openai);
  BOOST_TEST(string_at(openai, "/id").starts_with("batch_req_"), openai);
}

BOOST_AUTO_TEST_CASE(a_slow_endpoint_gives_timeout_records) {
  auto config = server_config();
  config.latency_ms = 1500;
  running_server server(config);
  const auto input = numbered_prompts(3);
  const auto r =
      run_job(input.jsonl(), server.url(), {"--request-timeout", "0.3", "--retries", "0"});
  check_all_failed_with(r, input, "timeout");
}

BOOST_AUTO_TEST_CASE(a_message_other_than_ok_gives_endpoint_records) {
  auto config = server_config();
  config.error_message_rate = 1;
  running_server server(config);
  const auto input = numbered_prompts(3);
  const auto r = run_job(input.jsonl(), server.url(), {"--retries", "0"});
  check_all_failed_with(r, input, "endpoint");
  const std::string record = r.records.only(input.ids[0]);
  BOOST_TEST(contains(string_at(record, "/error/message"), "model overloaded"), record);
}

BOOST_AUTO_TEST_CASE(garbage_answers_give_protocol_records) {
  auto config = server_config();
  config.garbage_rate = 1;
  running_server server(config);
  const auto input = numbered_prompts(3);
  check_all_failed_with(run_job(input.jsonl(), server.url(), {"--retries", "0"}), input,
                        "protocol");
}

BOOST_AUTO_TEST_CASE(a_dead_endpoint_gives_connection_records) {
  const auto input = numbered_prompts(3);
  check_all_failed_with(run_job(input.jsonl(), dead_api_base(), {"--retries", "0"}), input,
                        "connection");
}

BOOST_AUTO_TEST_CASE(transient_faults_are_retried_until_every_line_succeeds) {
  auto config = server_config();
  config.fail_rate = 0.2;
  config.retry_after_s = 0;
  config.drop_rate = 0.1;
  config.shuffle = true;
  running_server server(config);
  const auto input = numbered_prompts(2000);
  const auto r = run_job(input.jsonl(), server.url(), {"--batch-size", "32", "--retries", "20"});
  BOOST_TEST(r.process.exit_code == 0, "stderr: " << r.process.err);
  check_exactly_once(r.records, input.ids);
  check_echoed(r.records, input);
  BOOST_TEST(server.server.stats().faults.load() > 0u, "the faults were injected");
}

BOOST_AUTO_TEST_CASE(several_endpoints_share_the_job_and_a_dead_one_fails_no_line) {
  running_server first(server_config());
  running_server second(server_config());
  const auto input = numbered_prompts(4000);
  const auto r = run_job(input.jsonl(), first.url(),
                         {"--api-base", second.url(), "--api-base", dead_api_base(), "--batch-size",
                          "50", "--connections", "2"});
  BOOST_TEST(r.process.exit_code == 0, "stderr: " << r.process.err);
  check_exactly_once(r.records, input.ids);
  check_echoed(r.records, input);
  BOOST_TEST(first.server.stats().prompts.load() > 0u);
  BOOST_TEST(second.server.stats().prompts.load() > 0u);
}

BOOST_AUTO_TEST_CASE(https_needs_a_trusted_certificate) {
  test_ca ca;
  auto config = server_config();
  config.tls_cert_file = ca.server_cert().string();
  config.tls_key_file = ca.server_key().string();
  running_server server(config);
  const auto input = numbered_prompts(50);
  const auto trusted = run_job(input.jsonl(), server.url(), {"--ca-file", ca.ca_cert().string()});
  BOOST_TEST(trusted.process.exit_code == 0, "stderr: " << trusted.process.err);
  check_exactly_once(trusted.records, input.ids);
  check_echoed(trusted.records, input);
  check_all_failed_with(run_job(input.jsonl(), server.url(), {"--retries", "0"}), input, "tls");
}

BOOST_AUTO_TEST_CASE(stdin_and_stdout_work_in_a_pipe) {
  running_server server(server_config());
  const auto input = numbered_prompts(2000);
  job_files files(input.jsonl());
  const std::string command = "cat '" + files.in +
                              "' | '" PROMPTPACK_BINARY "' run -i - -o - --quiet --api-base '" +
                              server.url() + "' > '" + files.out + "'";
  const auto result = promptpack::test::run_process("/bin/sh", {"-c", command});
  BOOST_TEST(result.exit_code == 0, "stderr: " << result.err);
  const auto records = files.records();
  check_exactly_once(records, input.ids);
  check_echoed(records, input);
}

BOOST_AUTO_TEST_CASE(ordered_output_follows_the_input_order) {
  auto config = server_config();
  config.shuffle = true;  // answers in reverse order within each batch
  config.reject_substring = "FORBIDDEN";
  running_server server(config);
  // Several blocks of lines (4096 each), invalid lines and rejected prompts among them.
  auto input = numbered_prompts(10000);
  std::string text;
  std::vector<std::string> expected_order;
  for (std::size_t i = 0; i < input.ids.size(); ++i) {
    if (i % 997 == 0) {
      text += "not JSON\n";
      expected_order.push_back(std::to_string(i + 1));
      continue;
    }
    if (i % 1009 == 5) input.prompts[i] += " FORBIDDEN";
    text += "{\"custom_id\":" + json_quoted(input.ids[i]) +
            ",\"prompt\":" + json_quoted(input.prompts[i]) + "}\n";
    expected_order.push_back(input.ids[i]);
  }
  const auto r =
      run_job(text, server.url(),
              {"--ordered", "--batch-size", "50", "--connections", "4", "--max-pending", "8192"});
  BOOST_TEST(r.process.exit_code == 1, "stderr: " << r.process.err);
  check_exactly_once(r.records, expected_order);
  BOOST_TEST_REQUIRE(r.records.ids.size() == expected_order.size());
  std::size_t first_out_of_order = expected_order.size();
  for (std::size_t i = 0; i < expected_order.size(); ++i) {
    if (r.records.ids[i] != expected_order[i]) {
      first_out_of_order = i;
      break;
    }
  }
  BOOST_TEST(first_out_of_order == expected_order.size(),
             "record " << first_out_of_order << " is out of input order");
}

BOOST_AUTO_TEST_CASE(three_shards_cover_every_line_exactly_once) {
  running_server server(server_config());
  constexpr std::size_t shards = 3;
  // Every tenth line has no custom_id: its id is its line number in the whole file.
  const auto input = numbered_prompts(3000);
  std::string text;
  std::vector<std::string> expected[shards];
  for (std::size_t i = 0; i < input.ids.size(); ++i) {
    const bool numbered = i % 10 == 0;
    text += numbered ? "{" : "{\"custom_id\":" + json_quoted(input.ids[i]) + ",";
    text += "\"prompt\":" + json_quoted(input.prompts[i]) + "}\n";
    expected[i % shards].push_back(numbered ? std::to_string(i + 1) : input.ids[i]);
  }
  job_files files(text);
  std::vector<std::unique_ptr<child_process>> jobs;  // the shards run side by side
  for (std::size_t s = 0; s < shards; ++s) {
    jobs.push_back(std::make_unique<child_process>(
        PROMPTPACK_BINARY,
        std::vector<std::string>{"run", "-i", files.in, "-o", files.dir.file(std::to_string(s)),
                                 "--api-base", server.url(), "--shard",
                                 std::to_string(s) + "/" + std::to_string(shards)}));
  }
  for (std::size_t s = 0; s < shards; ++s) {
    BOOST_TEST_CONTEXT("shard " << s) {
      const auto result = jobs[s]->finish();
      BOOST_TEST(result.exit_code == 0, "stderr: " << result.err);
      check_exactly_once(parse_records(read_file(files.dir.file(std::to_string(s)))), expected[s]);
    }
  }
  BOOST_TEST(server.server.stats().prompts.load() == input.ids.size());
}

BOOST_AUTO_TEST_CASE(resume_cuts_a_torn_record_and_runs_only_the_rest) {
  running_server server(server_config());
  const auto input = numbered_prompts(500);
  job_files files(input.jsonl());
  std::string done;  // what a killed run left: 200 whole records, then half of one
  for (std::size_t i = 0; i < 200; ++i) {
    done += "{\"custom_id\":" + json_quoted(input.ids[i]) + ",\"output\":[" +
            json_quoted(input.prompts[i]) + "]}\n";
  }
  write_file(files.out, done + R"({"custom_id":"id-200","output":["prom)");
  const auto result = run_promptpack(run_args(files, server.url(), {"--resume"}));
  BOOST_TEST(result.exit_code == 0, "stderr: " << result.err);
  BOOST_TEST(contains(result.err, "torn"), result.err);
  const std::string output = read_file(files.out);
  BOOST_TEST(output.starts_with(done), "the whole records are kept as they were");
  const auto records = parse_records(output);
  check_exactly_once(records, input.ids);
  check_echoed(records, input);
  BOOST_TEST(server.server.stats().prompts.load() == 300u, "only the lines without a record run");
}

BOOST_AUTO_TEST_CASE(resuming_a_finished_job_runs_nothing_and_keeps_its_exit_status) {
  running_server server(server_config());
  for (const bool with_errors : {false, true}) {
    BOOST_TEST_CONTEXT("with error records: " << with_errors) {
      const auto input = numbered_prompts(100);
      std::string text = input.jsonl();
      const std::string first_line = text.substr(0, text.find('\n') + 1);
      if (with_errors) text += "not JSON\n" + first_line;  // an invalid line and a duplicate
      job_files files(text);
      const auto first = run_promptpack(run_args(files, server.url(), {}));
      BOOST_TEST(first.exit_code == (with_errors ? 1 : 0), "stderr: " << first.err);
      const std::string output = read_file(files.out);
      const auto prompts = server.server.stats().prompts.load();
      const auto again = run_promptpack(run_args(files, server.url(), {"--resume"}));
      BOOST_TEST(again.exit_code == first.exit_code, "stderr: " << again.err);
      BOOST_TEST(read_file(files.out) == output, "nothing is added");
      BOOST_TEST(server.server.stats().prompts.load() == prompts, "nothing is sent");
    }
  }
}

BOOST_AUTO_TEST_CASE(a_fixed_line_runs_on_resume_once_its_error_record_is_deleted) {
  running_server server(server_config());
  const std::string good = R"({"custom_id": "good", "prompt": "fine"})";
  job_files files(jsonl({good, R"({"custom_id": "fixme", "prompt": 5})"}));
  BOOST_TEST(run_promptpack(run_args(files, server.url(), {})).exit_code == 1);
  const auto records = files.records();
  const std::string advice = string_at(records.only("fixme"), "/error/message");
  BOOST_TEST(contains(advice, "--resume"), advice);
  write_file(files.in, jsonl({good, R"({"custom_id": "fixme", "prompt": "fixed"})"}));
  write_file(files.out, records.only("good") + "\n");
  const auto resumed = run_promptpack(run_args(files, server.url(), {"--resume"}));
  BOOST_TEST(resumed.exit_code == 0, "stderr: " << resumed.err);
  const auto after = files.records();
  check_exactly_once(after, {"good", "fixme"});
  BOOST_TEST(string_at(after.only("fixme"), "/output/0") == "fixed");
}

BOOST_AUTO_TEST_CASE(a_seed_per_line_makes_a_group_per_line_and_every_line_is_answered) {
  // Every line has its own params, so none can share a request: thousands of groups in flight
  // at once, each line its own exchange.
  running_server server(server_config());
  const auto input = numbered_prompts(20000);
  std::string text;
  for (std::size_t i = 0; i < input.ids.size(); ++i) {
    text += "{\"custom_id\":" + json_quoted(input.ids[i]) +
            ",\"prompt\":" + json_quoted(input.prompts[i]) + ",\"seed\":" + std::to_string(i) +
            "}\n";
  }
  job_files files(text);
  const auto result = run_promptpack(run_args(files, server.url(), {"--connections", "16"}));
  BOOST_TEST(result.exit_code == 0, "stderr: " << result.err);
  const auto records = files.records();
  check_exactly_once(records, input.ids);
  check_echoed(records, input);
  BOOST_TEST(server.server.stats().requests.load() == 20000u);
}

BOOST_AUTO_TEST_CASE(a_weight_after_the_url_shifts_the_load) {
  auto config = server_config();
  config.latency_ms = 5;  // exchanges overlap, so load follows in-flight counts and weights
  running_server light(config);
  running_server heavy(config);
  const auto input = numbered_prompts(4000);
  job_files files(input.jsonl());
  const auto result =
      run_promptpack({"run", "-q", "-i", files.in, "-o", files.out, "--batch-size", "16",
                      "--api-base", light.url(), "--api-base", heavy.url() + "#weight=4"});
  BOOST_TEST(result.exit_code == 0, "stderr: " << result.err);
  check_exactly_once(files.records(), input.ids);
  const auto light_prompts = light.server.stats().prompts.load();
  const auto heavy_prompts = heavy.server.stats().prompts.load();
  BOOST_TEST(heavy_prompts > light_prompts,
             "light " << light_prompts << ", heavy " << heavy_prompts);

  const auto bad = run_promptpack(
      {"run", "-i", files.in, "-o", files.out + ".2", "--api-base", light.url() + "#weight=0"});
  BOOST_TEST(bad.exit_code == 2);
  BOOST_TEST(contains(bad.err, "weight"), bad.err);
}

BOOST_AUTO_TEST_CASE(retry_errors_reruns_the_lines_a_dead_endpoint_failed) {
  const auto input = numbered_prompts(300);
  job_files files(input.jsonl());
  const auto dead = run_promptpack(run_args(files, dead_api_base(), {"--retries", "0"}));
  BOOST_TEST(dead.exit_code == 1, "stderr: " << dead.err);
  BOOST_TEST(files.records().ids.size() == 300u);

  running_server server(server_config());
  const auto plain = run_promptpack(run_args(files, server.url(), {"--resume"}));
  BOOST_TEST(plain.exit_code == 1, "plain --resume keeps the error records: " << plain.err);
  BOOST_TEST(server.server.stats().prompts.load() == 0u);

  const auto again = run_promptpack(run_args(files, server.url(), {"--resume", "--retry-errors"}));
  BOOST_TEST(again.exit_code == 0, "stderr: " << again.err);
  BOOST_TEST(contains(again.err, "dropped 300 error records"), again.err);
  const auto records = files.records();
  check_exactly_once(records, input.ids);
  check_echoed(records, input);
}

BOOST_AUTO_TEST_CASE(retry_errors_needs_resume) {
  job_files files(numbered_prompts(3).jsonl());
  BOOST_TEST(run_promptpack(run_args(files, dead_api_base(), {"--retry-errors"})).exit_code == 2);
}

BOOST_AUTO_TEST_CASE(without_api_base_the_embedded_endpoint_is_used) {
  const auto input = numbered_prompts(50);
  job_files files(input.jsonl());
  const auto result = run_promptpack({"run", "-i", files.in, "-o", files.out});
  BOOST_TEST(result.exit_code == 0, "stderr: " << result.err);
  BOOST_TEST(contains(result.err, "embedded"), result.err);
  const auto records = files.records();
  check_exactly_once(records, input.ids);
  check_echoed(records, input);
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_2) {
  const auto input = numbered_prompts(5);
  job_files files(input.jsonl());
  const std::string api_base = dead_api_base();  // never reached
  const auto check_usage_error = [&](const std::vector<std::string>& args, std::string_view says) {
    BOOST_TEST_CONTEXT("promptpack run ... " << args.back()) {
      const auto result = run_promptpack(args);
      BOOST_TEST(result.exit_code == 2, "stderr: " << result.err);
      BOOST_TEST(contains(result.err, says), "stderr: " << result.err);
    }
  };
  check_usage_error(run_args(files, api_base, {"--no-such-flag"}), "--no-such-flag");
  const std::string missing = files.dir.file("missing.jsonl");
  check_usage_error({"run", "-i", missing, "-o", files.out, "--api-base", api_base}, missing);
  BOOST_TEST(!std::filesystem::exists(files.out), "no output for a job that did not start");
  for (const char* shard : {"3/3", "1/0", "2", "a/3"}) {
    check_usage_error(run_args(files, api_base, {"--shard", shard}), "--shard");
  }
  check_usage_error({"run", "-i", files.in, "-o", "-", "--api-base", api_base, "--resume"},
                    "--resume");

  write_file(files.out, "{\"custom_id\":\"earlier\",\"output\":[\"x\"]}\n");
  check_usage_error(run_args(files, api_base, {}), "--overwrite");
  BOOST_TEST(read_file(files.out) == "{\"custom_id\":\"earlier\",\"output\":[\"x\"]}\n",
             "an existing output is left alone");
}

BOOST_AUTO_TEST_CASE(overwrite_starts_an_existing_output_over) {
  running_server server(server_config());
  const auto input = numbered_prompts(5);
  job_files files(input.jsonl());
  write_file(files.out, "{\"custom_id\":\"earlier\",\"output\":[\"x\"]}\n");
  const auto result = run_promptpack(run_args(files, server.url(), {"--overwrite"}));
  BOOST_TEST(result.exit_code == 0, "stderr: " << result.err);
  check_exactly_once(files.records(), input.ids);
}

BOOST_AUTO_TEST_SUITE_END()
