// purpose: the batch size against a real endpoint: --batch-size auto under a 413 limit, and a
// 413 caused by one long prompt, which must not shrink the batches of the others.
#include <promptpack/client.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>
#include <regex>
#include <string>
#include <vector>

#include "common/client_bulk.hpp"
#include "common/contains.hpp"
#include "common/reference_fixture.hpp"

namespace {

using promptpack::client;
using promptpack::client_config;
using promptpack::reference::generator_kind;
using promptpack::reference::reference_config;
using promptpack::test::check_echo;
using promptpack::test::contains;
using promptpack::test::describe;
using promptpack::test::numbered;
using promptpack::test::run_bulk;
using promptpack::test::running_server;

using strings = std::vector<std::string>;
using clock_type = std::chrono::steady_clock;

client_config config_for(const std::string& url) {
  client_config config;
  config.endpoints = {{url, 1.0}};
  config.model = "custom/test-model";
  config.connections_per_endpoint = 4;
  config.threads = 1;
  config.backoff_base_ms = 5;
  config.backoff_cap_ms = 50;
  return config;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(client_batch_size)

BOOST_AUTO_TEST_CASE(auto_settles_just_under_the_size_the_endpoint_refuses) {
  // serve's latency model: 2 ms a request plus 2 us a prompt, and 413 above 300 prompts. The
  // rate grows with the size all the way, so the best size is the largest accepted: 300, not
  // the 256 everybody defaults to.
  reference_config endpoint;
  endpoint.generator = generator_kind::echo;
  endpoint.latency_ms = 2;
  endpoint.per_prompt_us = 2;
  endpoint.max_batch = 300;
  running_server server(endpoint);
  client_config config = config_for(server.url());
  config.adaptive_batch = true;
  config.max_batch_prompts = 4096;  // the tuner's ceiling
  client client(config);

  // Bulks of 4,096 prompts until the tuner settles (a few seconds), with a generous bound that
  // only guards against a hang.
  const auto give_up = clock_type::now() + std::chrono::seconds(60);
  std::size_t rounds = 0;
  while (!contains(client.stats().batch_size_tuning, "capped") && clock_type::now() < give_up) {
    const strings prompts = numbered("round " + std::to_string(rounds++), 4096);
    const auto results = run_bulk(client, prompts);
    for (std::size_t i = 0; i < prompts.size(); ++i) check_echo(results[i], prompts[i]);
  }
  const std::string tuning = client.stats().batch_size_tuning;
  BOOST_TEST_MESSAGE("after " << rounds << " bulks: " << tuning);
  std::smatch m;
  BOOST_TEST_REQUIRE(std::regex_search(tuning, m,
                                       std::regex("capped at ([0-9]+): the endpoint "
                                                  "answered 413 at ([0-9]+)")),
                     tuning);
  const int settled = std::atoi(m[1].str().c_str());
  const int refused = std::atoi(m[2].str().c_str());
  BOOST_TEST(settled <= 300);
  BOOST_TEST(settled >= 256);  // within the bracket's resolution of the best size
  BOOST_TEST(refused > 300);
  // Every 413 was split and resent: no prompt failed, none was answered twice (check_echo).
  BOOST_TEST(client.stats().prompts_failed == 0u);
  BOOST_TEST(client.stats().batches_split > 0u);
}

BOOST_AUTO_TEST_CASE(one_prompt_too_long_fails_alone_and_the_others_keep_their_batch_size) {
  reference_config endpoint;
  endpoint.generator = generator_kind::echo;
  endpoint.max_body_bytes = 64 << 10;  // a 100 KB prompt can never fit
  running_server server(endpoint);
  client_config config = config_for(server.url());
  config.max_batch_prompts = 64;
  client client(config);

  strings prompts = numbered("short", 256);
  prompts[100] = std::string(100 << 10, 'x');
  const auto results = run_bulk(client, prompts);
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    if (i == 100) {
      BOOST_TEST_REQUIRE(!results[i].ok(), describe(results[i]));
      BOOST_TEST(results[i].error->http_status == 413, describe(results[i]));
    } else {
      check_echo(results[i], prompts[i]);
    }
  }

  // The bisection around the long prompt got 413s at 64, 32, ... 1. The batches after it are
  // still of 32 (half the first refused size), not of 1.
  const auto requests_before = server.server.stats().requests.load();
  const strings more = numbered("after", 640);
  const auto again = run_bulk(client, more);
  for (std::size_t i = 0; i < more.size(); ++i) check_echo(again[i], more[i]);
  const auto requests = server.server.stats().requests.load() - requests_before;
  BOOST_TEST(requests <= 640u / 32u + 4u, requests << " requests for 640 prompts");
}

BOOST_AUTO_TEST_SUITE_END()
