// purpose: the real `promptpack complete` binary: answers, https and one-line errors.
#include <boost/test/unit_test.hpp>

#include <simdjson.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "common/child_process.hpp"
#include "common/contains.hpp"
#include "common/dead_port.hpp"
#include "common/reference_fixture.hpp"
#include "common/test_ca.hpp"

namespace {

using promptpack::reference::generator_kind;
using promptpack::reference::reference_config;
using promptpack::test::contains;
using promptpack::test::dead_port;
using promptpack::test::process_result;
using promptpack::test::run_promptpack;
using promptpack::test::running_server;
using promptpack::test::test_ca;

/// `promptpack ARGS...` run to completion.
process_result run_cli(const std::vector<std::string>& args) {
  return run_promptpack(args);
}

reference_config server_config(generator_kind generator) {
  reference_config config;
  config.generator = generator;
  return config;
}

reference_config tls_config(const test_ca& ca) {
  auto config = server_config(generator_kind::echo);
  config.tls_cert_file = ca.server_cert().string();
  config.tls_key_file = ca.server_key().string();
  return config;
}

/// `complete` against `api_base` with the model of the issue, plus `extra` arguments.
std::vector<std::string> complete_args(const std::string& api_base,
                                       std::vector<std::string> extra) {
  std::vector<std::string> args{"complete", "--api-base", api_base, "--model",
                                "custom/meta-llama/Llama-2-13b-hf"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

/// The error output of a failed run: one line, no crash report.
void check_one_line_error(const process_result& r) {
  BOOST_TEST((r.exit_code > 0 && r.exit_code < 128), "exit code " << r.exit_code);
  BOOST_TEST(r.out.empty(), r.out);
  BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1, r.err);
  BOOST_TEST(r.err.ends_with('\n'), r.err);
  for (std::string_view crash : {"terminate", "what()", "Aborted", "exception", "#0 "}) {
    BOOST_TEST(!contains(r.err, crash), r.err);
  }
}

/// The content of choices[0] of the chat.completion printed on stdout (checks its shape).
std::string check_chat_completion(const process_result& r, std::string_view model) {
  BOOST_TEST_REQUIRE(r.exit_code == 0, "exit " << r.exit_code << ", stderr: " << r.err);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  BOOST_TEST_REQUIRE(parser.parse(r.out).get(root) == simdjson::SUCCESS, "not JSON: " << r.out);
  std::string_view object, got_model, id, role, content;
  BOOST_TEST_REQUIRE(root["object"].get_string().get(object) == simdjson::SUCCESS);
  BOOST_TEST(object == "chat.completion");
  BOOST_TEST_REQUIRE(root["model"].get_string().get(got_model) == simdjson::SUCCESS);
  BOOST_TEST(got_model == model);
  BOOST_TEST_REQUIRE(root["id"].get_string().get(id) == simdjson::SUCCESS);
  BOOST_TEST(id.starts_with("chatcmpl-"));
  std::int64_t created = 0;
  BOOST_TEST(root["created"].get_int64().get(created) == simdjson::SUCCESS);
  BOOST_TEST(created > 0);
  const auto choice = root["choices"].at(0);
  BOOST_TEST_REQUIRE(choice["message"]["role"].get_string().get(role) == simdjson::SUCCESS);
  BOOST_TEST(role == "assistant");
  BOOST_TEST_REQUIRE(choice["message"]["content"].get_string().get(content) == simdjson::SUCCESS);
  std::string_view finish_reason;
  BOOST_TEST(choice["finish_reason"].get_string().get(finish_reason) == simdjson::SUCCESS);
  std::int64_t prompt_tokens = -1, completion_tokens = -1, total_tokens = -1;
  BOOST_TEST(root["usage"]["prompt_tokens"].get_int64().get(prompt_tokens) == simdjson::SUCCESS);
  BOOST_TEST(root["usage"]["completion_tokens"].get_int64().get(completion_tokens) ==
             simdjson::SUCCESS);
  BOOST_TEST(root["usage"]["total_tokens"].get_int64().get(total_tokens) == simdjson::SUCCESS);
  BOOST_TEST(total_tokens == prompt_tokens + completion_tokens);
  return std::string(content);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_complete)

BOOST_AUTO_TEST_CASE(prints_an_openai_chat_completion) {
  running_server server(server_config(generator_kind::text));
  const auto r =
      run_cli(complete_args(server.url(), {"--max-tokens", "10", "The capital of France is P"}));
  const std::string content = check_chat_completion(r, "meta-llama/Llama-2-13b-hf");
  BOOST_TEST(!content.empty());
  BOOST_TEST(std::count(r.out.begin(), r.out.end(), '\n') == 1);  // one JSON line
  simdjson::dom::parser parser;
  const auto root = parser.parse(r.out);
  BOOST_TEST(root["usage"]["prompt_tokens"].get_int64().value() == 6);
  BOOST_TEST(root["usage"]["completion_tokens"].get_int64().value() == 10);  // max_tokens words
  BOOST_TEST(server.server.stats().prompts.load() == 1u);
}

BOOST_AUTO_TEST_CASE(messages_are_joined_with_one_space) {
  running_server server(server_config(generator_kind::echo));
  const auto r = run_cli(complete_args(
      server.url(),
      {"--messages", R"([{"role":"user","content":"a"},{"role":"user","content":"b"}])"}));
  BOOST_TEST(check_chat_completion(r, "meta-llama/Llama-2-13b-hf") == "a b");
}

BOOST_AUTO_TEST_CASE(a_dead_port_is_a_one_line_connection_error) {
  const std::string port = std::to_string(dead_port());
  const auto r = run_cli(complete_args("http://127.0.0.1:" + port + "/inference", {"hello"}));
  check_one_line_error(r);
  BOOST_TEST(contains(r.err, "connection"), r.err);
  BOOST_TEST(contains(r.err, "127.0.0.1:" + port), r.err);
}

BOOST_AUTO_TEST_CASE(https_with_ca_file_works) {
  test_ca ca;
  running_server server(tls_config(ca));
  const auto r = run_cli(complete_args(server.url() + "/inference",
                                       {"--ca-file", ca.ca_cert().string(), "secure hello"}));
  BOOST_TEST(check_chat_completion(r, "meta-llama/Llama-2-13b-hf") == "secure hello");
}

BOOST_AUTO_TEST_CASE(an_untrusted_certificate_is_a_one_line_tls_error) {
  test_ca ca;
  running_server server(tls_config(ca));
  const auto r = run_cli(complete_args(server.url() + "/inference", {"hello"}));
  check_one_line_error(r);
  BOOST_TEST(contains(r.err, "tls"), r.err);
  BOOST_TEST(contains(r.err, "certificate"), r.err);
}

BOOST_AUTO_TEST_CASE(a_wrong_host_name_is_a_one_line_tls_error) {
  test_ca ca("otherhost");  // names otherhost and 127.0.0.1, not localhost
  running_server server(tls_config(ca));
  const auto r =
      run_cli(complete_args("https://localhost:" + std::to_string(server.port()) + "/inference",
                            {"--ca-file", ca.ca_cert().string(), "hello"}));
  check_one_line_error(r);
  BOOST_TEST(contains(r.err, "tls"), r.err);
  BOOST_TEST(contains(r.err, "localhost"), r.err);
}

BOOST_AUTO_TEST_CASE(without_api_base_it_uses_the_embedded_endpoint) {
  const auto r = run_cli({"complete", "--model", "custom/meta-llama/Llama-2-13b-hf", "--max-tokens",
                          "5", "The capital of France is P"});
  BOOST_TEST(contains(r.err, "embedded"), r.err);
  BOOST_TEST(!check_chat_completion(r, "meta-llama/Llama-2-13b-hf").empty());
}

BOOST_AUTO_TEST_CASE(malformed_messages_is_a_one_line_usage_error) {
  running_server server(server_config(generator_kind::echo));
  const auto r = run_cli(complete_args(server.url(), {"--messages", "[{\"role\":"}));
  check_one_line_error(r);
  BOOST_TEST(contains(r.err, "--messages"), r.err);
  BOOST_TEST(server.server.stats().requests.load() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
