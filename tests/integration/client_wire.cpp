// purpose: the client against wire shapes other servers use: chunked answers, keep-alive
// connections the server closes, Connection: close, escaped Unicode, large prompts.
#include <promptpack/client.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <future>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/client_bulk.hpp"
#include "common/reference_fixture.hpp"

namespace {

using promptpack::client;
using promptpack::client_config;
using promptpack::prompt_result;
using promptpack::reference::generator_kind;
using promptpack::reference::reference_config;
using promptpack::test::numbered;
using promptpack::test::run_bulk;
using promptpack::test::running_server;

reference_config echo_server() {
  reference_config config;
  config.generator = generator_kind::echo;
  config.threads = 2;
  return config;
}

client_config client_for(const running_server& server) {
  client_config config;
  config.endpoints = {{server.url(), 1.0}};
  config.model = "custom/wire";
  config.connections_per_endpoint = 2;
  config.max_batch_prompts = 64;
  config.threads = 2;
  return config;
}

// Sends every prompt in one bulk call and checks that each came back echoed, exactly.
void expect_echoed(client& client, const std::vector<std::string>& prompts,
                   promptpack::prompt_bytes bytes = promptpack::prompt_bytes::any) {
  const std::vector<prompt_result> results =
      run_bulk(client, prompts, promptpack::test::client_hang_guard, bytes);
  BOOST_REQUIRE_EQUAL(results.size(), prompts.size());
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    BOOST_REQUIRE_MESSAGE(results[i].ok(), "prompt " << i << ": " << results[i].error->message);
    BOOST_REQUIRE_EQUAL(results[i].outputs.size(), 1u);
    BOOST_CHECK(results[i].outputs[0] == prompts[i]);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(client_wire)

BOOST_AUTO_TEST_CASE(chunked_answers_are_read_whole) {
  auto config = echo_server();
  config.chunked = true;  // 4 KiB chunks: every batch answer spans several
  running_server server(config);
  promptpack::client client(client_for(server));
  expect_echoed(client, numbered("a prompt long enough to make the answer span chunks", 500));
}

BOOST_AUTO_TEST_CASE(connection_close_answers_open_a_new_connection_each_time) {
  auto config = echo_server();
  config.keep_alive = false;
  running_server server(config);
  auto client_config = client_for(server);
  client_config.max_batch_prompts = 10;
  promptpack::client client(client_config);
  expect_echoed(client, numbered("close", 100));
  BOOST_CHECK_GE(server.server.stats().connections.load(), 10u);
  BOOST_CHECK_EQUAL(client.stats().requests_retried, 0u);
}

BOOST_AUTO_TEST_CASE(keep_alive_connections_the_server_dropped_are_replaced_without_errors) {
  auto config = echo_server();
  config.idle_timeout_s = 1;  // the server closes idle keep-alive connections after a second
  running_server server(config);
  promptpack::client client(client_for(server));
  expect_echoed(client, numbered("before", 50));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  expect_echoed(client, numbered("after", 50));
  const auto stats = client.stats();
  BOOST_CHECK_EQUAL(stats.prompts_failed, 0u);
  BOOST_CHECK_EQUAL(stats.requests_retried, 0u);  // a resend on a fresh connection is no retry
}

BOOST_AUTO_TEST_CASE(escaped_unicode_and_control_characters_round_trip) {
  running_server server(echo_server());
  promptpack::client client(client_for(server));
  expect_echoed(client,
                {"caf\xc3\xa9", "\xf0\x9f\x98\x80 grin", "tab\there", "quote \" and \\ backslash",
                 std::string("nul\0byte", 8), "\x1f unit separator", "\xe4\xb8\xad\xe6\x96\x87"});
}

BOOST_AUTO_TEST_CASE(json_safe_prompts_share_requests_with_escaped_ones_and_all_round_trip) {
  running_server server(echo_server());
  auto config = client_for(server);
  config.max_delay_us = 20'000;  // the two submissions wait for each other: shared requests
  promptpack::client client(config);
  std::vector<std::string> safe = numbered("caf\xc3\xa9 \xf0\x9f\x98\x80 safe", 300);
  safe.push_back("");
  const std::vector<std::string> escaped = numbered("tab\there \"quoted\" \\", 300);
  const std::vector<std::string_view> safe_views(safe.begin(), safe.end());
  const std::vector<std::string_view> escaped_views(escaped.begin(), escaped.end());
  // Both queued before either is sent (submit_bulk only blocks for room): one thread, no races.
  auto safe_results =
      client.submit_bulk(safe_views, client.group(), promptpack::prompt_bytes::json_safe);
  auto escaped_results = client.submit_bulk(escaped_views, client.group());
  for (auto* results : {&safe_results, &escaped_results}) {
    BOOST_TEST_REQUIRE(
        (results->wait_for(promptpack::test::client_hang_guard) == std::future_status::ready));
  }
  const auto check = [](const std::vector<prompt_result>& results,
                        const std::vector<std::string>& prompts) {
    BOOST_TEST_REQUIRE(results.size() == prompts.size());
    for (std::size_t i = 0; i < prompts.size(); ++i)
      promptpack::test::check_echo(results[i], prompts[i]);
  };
  check(safe_results.get(), safe);
  check(escaped_results.get(), escaped);
  BOOST_TEST(client.stats().prompts_failed == 0u);
}

BOOST_AUTO_TEST_CASE(one_megabyte_prompts_travel_intact) {
  running_server server(echo_server());
  promptpack::client client(client_for(server));
  std::vector<std::string> prompts;
  for (char c : std::string("xyz")) {
    prompts.emplace_back(std::size_t{1} << 20, c);
    prompts.back().append(" end");
  }
  expect_echoed(client, prompts);
}

BOOST_AUTO_TEST_SUITE_END()
