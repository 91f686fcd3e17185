// Tests for the gateway's /metrics page: Prometheus names and labels, histograms, and the prompts
// per upstream request taken from the clients' counters between scrapes.
#include "gateway/gateway_metrics.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <vector>

namespace {

namespace gw = promptpack::gateway;
using namespace std::chrono_literals;
using promptpack::client_stats;

/// The value of one sample line, or -1 when the page has none.
double sample(const std::string& page, const std::string& name) {
  const auto at = page.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::strtod(page.c_str() + at + name.size() + 2, nullptr);
}

// A client's counters after sending requests of these sizes.
client_stats sent(std::initializer_list<std::size_t> sizes) {
  client_stats s;
  for (const std::size_t prompts : sizes) {
    ++s.requests_sent;
    s.prompts_sent += prompts;
    ++s.requests_by_prompts[client_stats::size_class(prompts)];
  }
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(gateway_metrics)

BOOST_AUTO_TEST_CASE(requests_are_counted_by_route_and_status) {
  gw::gateway_metrics metrics;
  for (int i = 0; i < 3; ++i) {
    metrics.request_started();
    metrics.request_finished(gw::gateway_route::chat_completions, 200, 2ms);
  }
  metrics.request_started();
  metrics.request_finished(gw::gateway_route::completions, 499, 20ms);
  metrics.request_started();  // still in flight
  std::string page;
  metrics.render(page, 7, {});
  BOOST_TEST(page.starts_with("# HELP "));
  BOOST_TEST(
      sample(page,
             R"(promptpack_gateway_requests_total{route="/v1/chat/completions",status="200"})") ==
      3);
  BOOST_TEST(
      sample(page, R"(promptpack_gateway_requests_total{route="/v1/completions",status="499"})") ==
      1);
  BOOST_TEST(sample(page, "promptpack_gateway_requests_in_flight") == 1);
  BOOST_TEST(sample(page, "promptpack_gateway_queue_depth") == 7);
  BOOST_TEST(sample(page, R"(promptpack_gateway_request_duration_seconds_bucket{le="0.001"})") ==
             0);
  BOOST_TEST(sample(page, R"(promptpack_gateway_request_duration_seconds_bucket{le="0.0025"})") ==
             3);
  BOOST_TEST(sample(page, R"(promptpack_gateway_request_duration_seconds_bucket{le="+Inf"})") == 4);
  BOOST_TEST(sample(page, "promptpack_gateway_request_duration_seconds_count") == 4);
  BOOST_TEST(sample(page, "promptpack_gateway_request_duration_seconds_sum") == 0.026,
             boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(prompts_per_upstream_request_come_from_the_clients_counters) {
  gw::gateway_metrics metrics;
  std::string first;
  metrics.render(first, 0, {sent({8, 12}), sent({1})});
  BOOST_TEST(sample(first, "promptpack_gateway_upstream_requests_total") == 3);
  BOOST_TEST(sample(first, "promptpack_gateway_upstream_prompts_total") == 21);
  BOOST_TEST(sample(first, "promptpack_gateway_upstream_prompts_per_request_count") == 3);
  BOOST_TEST(sample(first, "promptpack_gateway_upstream_prompts_per_request_sum") == 21);
  BOOST_TEST(sample(first, R"(promptpack_gateway_upstream_prompts_per_request_bucket{le="1"})") ==
             1);
  BOOST_TEST(sample(first, R"(promptpack_gateway_upstream_prompts_per_request_bucket{le="8"})") ==
             2);
  BOOST_TEST(sample(first, R"(promptpack_gateway_upstream_prompts_per_request_bucket{le="16"})") ==
             3);
  // The next scrape adds only what was sent since: 4 requests of 64 prompts.
  std::string second;
  metrics.render(second, 0, {sent({8, 12, 64, 64, 64, 64}), sent({1})});
  BOOST_TEST(sample(second, "promptpack_gateway_upstream_prompts_per_request_count") == 7);
  BOOST_TEST(sample(second, "promptpack_gateway_upstream_prompts_per_request_sum") == 277);
  BOOST_TEST(sample(second, R"(promptpack_gateway_upstream_prompts_per_request_bucket{le="32"})") ==
             3);
  BOOST_TEST(sample(second, R"(promptpack_gateway_upstream_prompts_per_request_bucket{le="64"})") ==
             7);
}

BOOST_AUTO_TEST_CASE(size_classes_end_at_powers_of_two) {
  BOOST_TEST(client_stats::size_class(1) == 0u);
  BOOST_TEST(client_stats::size_class(2) == 1u);
  BOOST_TEST(client_stats::size_class(3) == 2u);
  BOOST_TEST(client_stats::size_class(4) == 2u);
  BOOST_TEST(client_stats::size_class(5) == 3u);
  BOOST_TEST(client_stats::size_class(4096) == 12u);
  BOOST_TEST(client_stats::size_class(4097) == 13u);
  BOOST_TEST(client_stats::size_class(1u << 20) == 13u);
}

BOOST_AUTO_TEST_CASE(upstream_latency_and_errors_by_type) {
  gw::gateway_metrics metrics;
  metrics.prompts_submitted(5);
  metrics.upstream_answered(300ms);
  metrics.upstream_failed(promptpack::errc::timeout);
  metrics.upstream_failed(promptpack::errc::timeout);
  metrics.upstream_failed(promptpack::errc::http_status);
  std::string page;
  metrics.render(page, 0, {});
  BOOST_TEST(sample(page, "promptpack_gateway_prompts_total") == 5);
  BOOST_TEST(sample(page, R"(promptpack_gateway_upstream_duration_seconds_bucket{le="0.25"})") ==
             0);
  BOOST_TEST(sample(page, R"(promptpack_gateway_upstream_duration_seconds_bucket{le="0.5"})") == 1);
  BOOST_TEST(sample(page, R"(promptpack_gateway_upstream_errors_total{type="timeout"})") == 2);
  BOOST_TEST(sample(page, R"(promptpack_gateway_upstream_errors_total{type="http_status"})") == 1);
  BOOST_TEST(sample(page, R"(promptpack_gateway_upstream_errors_total{type="connection"})") == 0);
}

BOOST_AUTO_TEST_CASE(every_metric_has_help_and_type) {
  gw::gateway_metrics metrics;
  std::string page;
  metrics.render(page, 0, {});
  std::size_t helps = 0;
  std::size_t types = 0;
  for (std::size_t at = page.find("# HELP "); at != std::string::npos;
       at = page.find("# HELP ", at + 1)) {
    ++helps;
  }
  for (std::size_t at = page.find("# TYPE "); at != std::string::npos;
       at = page.find("# TYPE ", at + 1)) {
    ++types;
  }
  BOOST_TEST(helps == types);
  BOOST_TEST(helps >= 13u);
  BOOST_TEST(page.ends_with("\n"));
}

BOOST_AUTO_TEST_SUITE_END()
