// purpose: PROTOCOL.md section 2 against the reference faults, TLS and a dying endpoint.
#include <promptpack/client.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/client_bulk.hpp"
#include "common/contains.hpp"
#include "common/counting_sink.hpp"
#include "common/dead_port.hpp"
#include "common/reference_fixture.hpp"
#include "common/test_ca.hpp"

namespace {

using promptpack::client;
using promptpack::client_config;
using promptpack::errc;
using promptpack::prompt_result;
using promptpack::reference::generator_kind;
using promptpack::reference::reference_config;
using promptpack::test::check_echo;
using promptpack::test::client_hang_guard;
using promptpack::test::contains;
using promptpack::test::counting_sink;
using promptpack::test::dead_port;
using promptpack::test::describe;
using promptpack::test::numbered;
using promptpack::test::run_bulk;
using promptpack::test::running_server;
using promptpack::test::test_ca;

using strings = std::vector<std::string>;
using clock_type = std::chrono::steady_clock;

reference_config echo_config() {
  reference_config config;
  config.generator = generator_kind::echo;
  config.threads = 2;
  return config;
}

/// Small backoff, so that retries cost milliseconds.
client_config make_config(const std::string& url) {
  client_config config;
  config.endpoints = {{url, 1.0}};
  config.model = "custom/test-model";
  config.connections_per_endpoint = 2;
  config.threads = 2;
  config.max_retries = 3;
  config.backoff_base_ms = 5;
  config.backoff_cap_ms = 50;
  return config;
}

prompt_result run_one(client& client, const std::string& prompt) {
  return run_bulk(client, {prompt}).at(0);
}

void check_error(const prompt_result& c, errc type) {
  BOOST_TEST_REQUIRE(!c.ok(), "expected " << promptpack::to_string(type) << ", got a result");
  BOOST_TEST((c.error->type == type), describe(c));
  BOOST_TEST_MESSAGE(promptpack::to_string(type) << " error: " << c.error->message);
}

/// An echo server over https with a certificate from `ca`.
reference_config tls_config(const test_ca& ca) {
  auto config = echo_config();
  config.tls_cert_file = ca.server_cert().string();
  config.tls_key_file = ca.server_key().string();
  return config;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(client_failures)

BOOST_AUTO_TEST_CASE(connection_refused_is_a_connection_error_naming_host_and_port) {
  const std::uint16_t port = dead_port();
  promptpack::client client(make_config("http://127.0.0.1:" + std::to_string(port) + "/inference"));
  const auto started = clock_type::now();
  const auto results = run_bulk(client, numbered("refused", 5));
  BOOST_TEST((clock_type::now() - started < client_hang_guard));
  for (const auto& c : results) {
    check_error(c, errc::connection);
    BOOST_TEST(contains(c.error->message, "127.0.0.1:" + std::to_string(port)), c.error->message);
    BOOST_TEST(c.error->http_status == 0);
    BOOST_TEST(c.error->attempts == 4);
  }
  BOOST_TEST(client.stats().prompts_failed == 5u);
}

BOOST_AUTO_TEST_CASE(dropped_connections_are_retried_then_a_connection_error) {
  auto config = echo_config();
  config.drop_rate = 1;
  running_server server(config);
  promptpack::client client(make_config(server.url()));
  const prompt_result c = run_one(client, "dropped");
  check_error(c, errc::connection);
  BOOST_TEST(c.error->attempts == client.config().max_retries + 1);
  BOOST_TEST(server.server.stats().requests.load() == 4u);
  BOOST_TEST(client.stats().requests_retried == 3u);
}

BOOST_AUTO_TEST_CASE(status_503_with_retry_after_is_waited_out_without_using_retries) {
  auto config = echo_config();
  config.fail_rate = 1;
  config.fail_status = 503;
  config.retry_after_s = 1;
  running_server server(config);
  auto client_config = make_config(server.url());
  client_config.total_timeout_s = 2.5;  // room for two waits of 1 s, not a third
  promptpack::client client(client_config);
  const prompt_result c = run_one(client, "unavailable");
  check_error(c, errc::http_status);
  BOOST_TEST(c.error->http_status == 503);
  BOOST_TEST(contains(c.error->message, "rate limited"), c.error->message);
  BOOST_TEST(contains(c.error->message, "total timeout"), c.error->message);
  BOOST_TEST(client.stats().requests_retried == 0u);  // waits are not retries
  BOOST_TEST(server.server.stats().requests.load() == 3u);
  BOOST_TEST(client.stats().rate_limited_answers == 3u);
  BOOST_TEST(client.stats().rate_limit_wait_s >= 1.9);
}

BOOST_AUTO_TEST_CASE(status_429_with_retry_after_zero_backs_off_until_the_total_timeout) {
  auto config = echo_config();
  config.fail_rate = 1;
  config.fail_status = 429;
  config.retry_after_s = 0;
  running_server server(config);
  auto client_config = make_config(server.url());
  client_config.max_retries = 0;  // rate limits do not use retries, so even none is enough
  client_config.total_timeout_s = 0.5;
  promptpack::client client(client_config);
  const prompt_result c = run_one(client, "too many");
  check_error(c, errc::http_status);
  BOOST_TEST(c.error->http_status == 429);
  // Jittered backoff of 5..50 ms: several waits fit in the deadline, but never a burst of
  // hundreds (Retry-After: 0 taken literally would spend them within milliseconds).
  const auto requests = server.server.stats().requests.load();
  BOOST_TEST(requests >= 3u);
  BOOST_TEST(requests <= 60u);
  BOOST_TEST(client.stats().requests_retried == 0u);
}

BOOST_AUTO_TEST_CASE(a_wrong_key_fails_at_once_and_stops_the_sending) {
  auto config = echo_config();
  config.fail_rate = 1;
  config.fail_status = 401;
  running_server server(config);
  auto client_config = make_config(server.url());
  client_config.max_batch_prompts = 16;
  promptpack::client client(client_config);
  const auto results = run_bulk(client, numbered("key", 1000));
  for (const auto& c : results) {
    check_error(c, errc::http_status);
    BOOST_TEST(c.error->http_status == 401);
    BOOST_TEST(contains(c.error->message, "check the API key"), c.error->message);
  }
  // Never bisected (that sent ~2 requests per prompt), and the endpoint stops getting batches
  // after three refusals in a row: a few requests for the 63 batches, whatever their number.
  BOOST_TEST(server.server.stats().requests.load() <= 8u);
  BOOST_TEST(client.stats().batches_split == 0u);
}

BOOST_AUTO_TEST_CASE(other_retryable_statuses_are_retried) {
  for (unsigned status : {408u, 500u, 502u, 504u}) {
    auto config = echo_config();
    config.fail_rate = 1;
    config.fail_status = status;
    running_server server(config);
    auto client_config = make_config(server.url());
    client_config.max_retries = 1;
    promptpack::client client(client_config);
    const prompt_result c = run_one(client, "status " + std::to_string(status));
    check_error(c, errc::http_status);
    BOOST_TEST(c.error->http_status == static_cast<int>(status));
    BOOST_TEST(server.server.stats().requests.load() == 2u, "status " << status);
  }
}

BOOST_AUTO_TEST_CASE(half_failing_endpoint_eventually_answers_every_prompt) {
  auto config = echo_config();
  config.fail_rate = 0.5;
  config.fail_status = 500;
  running_server server(config);
  auto client_config = make_config(server.url());
  client_config.max_retries = 8;
  client_config.max_batch_prompts = 16;
  // One connection: one session, so the server's seeded fault dice give a repeatable run.
  client_config.connections_per_endpoint = 1;
  promptpack::client client(client_config);
  const strings prompts = numbered("flaky", 64);
  const auto results = run_bulk(client, prompts);
  for (std::size_t i = 0; i < prompts.size(); ++i) check_echo(results[i], prompts[i]);
  BOOST_TEST(client.stats().requests_retried > 0u);
  BOOST_TEST(client.stats().prompts_succeeded == 64u);
}

BOOST_AUTO_TEST_CASE(status_413_splits_the_batch_until_it_fits) {
  auto config = echo_config();
  config.max_batch = 4;
  running_server server(config);
  auto client_config = make_config(server.url());
  client_config.max_batch_prompts = 64;
  promptpack::client client(client_config);
  const strings prompts = numbered("split", 64);
  const auto results = run_bulk(client, prompts);
  for (std::size_t i = 0; i < prompts.size(); ++i) check_echo(results[i], prompts[i]);
  BOOST_TEST(client.stats().batches_split > 0u);
  BOOST_TEST(client.stats().requests_retried == 0u);
  BOOST_TEST(server.server.stats().prompts.load() == 64u);

  // The endpoint's lower limit is remembered: a second bulk needs no more splits.
  const auto splits = client.stats().batches_split;
  const auto requests = server.server.stats().requests.load();
  const strings more = numbered("after split", 16);
  const auto again = run_bulk(client, more);
  for (std::size_t i = 0; i < more.size(); ++i) check_echo(again[i], more[i]);
  BOOST_TEST(client.stats().batches_split == splits);
  BOOST_TEST(server.server.stats().requests.load() - requests == 4u);
}

BOOST_AUTO_TEST_CASE(status_400_bisects_to_the_rejected_prompts) {
  auto config = echo_config();
  config.reject_substring = "BAD";
  running_server server(config);
  auto client_config = make_config(server.url());
  client_config.max_batch_prompts = 20;
  promptpack::client client(client_config);
  strings prompts = numbered("good", 20);
  prompts[3] = "this one is BAD";
  prompts[16] = "BAD as well";
  const auto results = run_bulk(client, prompts);
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    if (i == 3 || i == 16) {
      check_error(results[i], errc::http_status);
      BOOST_TEST(results[i].error->http_status == 400);
      BOOST_TEST(contains(results[i].error->message, "400"), results[i].error->message);
      BOOST_TEST(contains(results[i].error->message, "content filter"), results[i].error->message);
    } else {
      check_echo(results[i], prompts[i]);
    }
  }
  BOOST_TEST(client.stats().prompts_succeeded == 18u);
  BOOST_TEST(client.stats().prompts_failed == 2u);
  BOOST_TEST(client.stats().batches_split > 0u);
}

BOOST_AUTO_TEST_CASE(status_400_on_a_single_prompt_fails_it_without_retry) {
  auto config = echo_config();
  config.reject_substring = "BAD";
  running_server server(config);
  promptpack::client client(make_config(server.url()));
  const prompt_result c = run_one(client, "BAD alone");
  check_error(c, errc::http_status);
  BOOST_TEST(c.error->http_status == 400);
  BOOST_TEST(c.error->attempts == 1);
  BOOST_TEST(server.server.stats().requests.load() == 1u);
}

BOOST_AUTO_TEST_CASE(message_other_than_ok_is_retried_then_an_endpoint_error) {
  auto config = echo_config();
  config.error_message_rate = 1;
  running_server server(config);
  promptpack::client client(make_config(server.url()));
  const prompt_result c = run_one(client, "overloaded");
  check_error(c, errc::endpoint);
  BOOST_TEST(contains(c.error->message, "injected: model overloaded"), c.error->message);
  BOOST_TEST(c.error->attempts == 4);
  BOOST_TEST(server.server.stats().requests.load() == 4u);
}

BOOST_AUTO_TEST_CASE(a_body_that_is_not_json_is_a_protocol_error) {
  auto config = echo_config();
  config.garbage_rate = 1;
  running_server server(config);
  promptpack::client client(make_config(server.url()));
  const auto results = run_bulk(client, numbered("garbage", 3));
  for (const auto& c : results) check_error(c, errc::protocol);
}

BOOST_AUTO_TEST_CASE(no_response_within_request_timeout_is_a_timeout_error) {
  auto config = echo_config();
  config.latency_ms = 1500;
  running_server server(config);
  auto client_config = make_config(server.url());
  client_config.request_timeout_s = 0.3;
  client_config.max_retries = 1;
  promptpack::client client(client_config);
  const auto started = clock_type::now();
  const prompt_result c = run_one(client, "slow");
  BOOST_TEST((clock_type::now() - started < std::chrono::seconds(10)));
  check_error(c, errc::timeout);
  BOOST_TEST(c.error->attempts == 2);
  BOOST_TEST(contains(c.error->message, "0.3 s"), c.error->message);
}

BOOST_AUTO_TEST_CASE(https_with_the_ca_file_works) {
  test_ca ca;
  running_server server(tls_config(ca));
  auto config = make_config(server.url());
  BOOST_TEST_REQUIRE(config.endpoints[0].api_base.starts_with("https://127.0.0.1:"));
  config.ca_file = ca.ca_cert().string();
  promptpack::client client(config);
  const strings prompts = numbered("secure", 30);
  const auto results = run_bulk(client, prompts);
  for (std::size_t i = 0; i < prompts.size(); ++i) check_echo(results[i], prompts[i]);
  // The host name form works too: the certificate names localhost.
  auto by_name = make_config("https://localhost:" + std::to_string(server.port()) + "/inference");
  by_name.ca_file = ca.ca_cert().string();
  promptpack::client named(by_name);
  check_echo(run_one(named, "by name"), "by name");
}

BOOST_AUTO_TEST_CASE(untrusted_certificate_is_a_tls_error) {
  test_ca ca;
  running_server server(tls_config(ca));
  promptpack::client system_cas(
      make_config(server.url()));  // the test CA is not among the system's
  const prompt_result c = run_one(system_cas, "untrusted");
  check_error(c, errc::tls);
  BOOST_TEST(contains(c.error->message, "certificate"), c.error->message);

  test_ca other;
  auto config = make_config(server.url());
  config.ca_file = other.ca_cert().string();
  promptpack::client wrong_ca(config);
  const prompt_result w = run_one(wrong_ca, "wrong ca");
  check_error(w, errc::tls);
  BOOST_TEST(contains(w.error->message, "certificate"), w.error->message);
}

BOOST_AUTO_TEST_CASE(certificate_for_another_host_name_is_a_tls_error) {
  test_ca ca("otherhost");  // names otherhost and 127.0.0.1, not localhost
  running_server server(tls_config(ca));
  auto config = make_config("https://localhost:" + std::to_string(server.port()) + "/inference");
  config.ca_file = ca.ca_cert().string();
  promptpack::client client(config);
  const prompt_result c = run_one(client, "wrong name");
  check_error(c, errc::tls);
  BOOST_TEST(contains(c.error->message, "certificate does not name host 'localhost'"),
             c.error->message);
}

BOOST_AUTO_TEST_CASE(two_weighted_endpoints_both_get_traffic) {
  auto config = echo_config();
  config.latency_ms = 20;
  running_server a(config);
  running_server b(config);
  auto client_config = make_config(a.url());
  client_config.endpoints = {{a.url(), 1.0}, {b.url(), 3.0}};
  client_config.max_batch_prompts = 10;
  promptpack::client client(client_config);
  const strings prompts = numbered("weighted", 400);
  const auto results = run_bulk(client, prompts);
  for (std::size_t i = 0; i < prompts.size(); ++i) check_echo(results[i], prompts[i]);
  const auto a_prompts = a.server.stats().prompts.load();
  const auto b_prompts = b.server.stats().prompts.load();
  BOOST_TEST_MESSAGE("weights 1:3 -> prompts " << a_prompts << " : " << b_prompts);
  BOOST_TEST(a_prompts > 0u);
  BOOST_TEST(b_prompts > 0u);
  BOOST_TEST(a_prompts + b_prompts == 400u);
}

BOOST_AUTO_TEST_CASE(an_endpoint_killed_mid_run_loses_no_prompt) {
  auto config = echo_config();
  config.latency_ms = 100;
  running_server doomed(config);
  running_server survivor(config);
  auto client_config = make_config(doomed.url());
  client_config.endpoints = {{doomed.url(), 1.0}, {survivor.url(), 1.0}};
  client_config.max_batch_prompts = 20;
  client_config.connections_per_endpoint = 4;
  promptpack::client client(client_config);
  const strings prompts = numbered("survive", 600);
  const std::vector<std::string_view> views(prompts.begin(), prompts.end());
  counting_sink sink(prompts);
  client.submit_bulk(views, client.group(), sink);

  const auto deadline = clock_type::now() + client_hang_guard;
  while (doomed.server.stats().requests.load() == 0 && clock_type::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  BOOST_TEST_REQUIRE(doomed.server.stats().requests.load() > 0u);
  doomed.server.stop();  // its requests in flight die with it

  BOOST_TEST_REQUIRE(sink.wait(), "the bulk never completed");
  sink.check_each_echoed_once();
  BOOST_TEST(survivor.server.stats().prompts.load() > 0u);
  BOOST_TEST_MESSAGE("killed endpoint answered " << doomed.server.stats().prompts.load()
                                                 << " prompts (answers possibly lost), survivor "
                                                 << survivor.server.stats().prompts.load());
}

BOOST_AUTO_TEST_SUITE_END()
