// Tests for bench's report: how the embedded endpoint's latency model is named.
#include "bench/bench_report.hpp"

#include <boost/test/unit_test.hpp>

using promptpack::bench::embedded_endpoint_name;

BOOST_AUTO_TEST_SUITE(bench_report)

BOOST_AUTO_TEST_CASE(an_instant_embedded_endpoint_says_how_to_make_it_gpu_like) {
  BOOST_TEST(embedded_endpoint_name(0, 0, 0, 0) ==
             "embedded reference endpoint (answers at once; --server-latency-ms and "
             "--server-per-prompt-us make it GPU-like)");
}

BOOST_AUTO_TEST_CASE(a_latency_model_is_named_by_the_costs_it_has) {
  BOOST_TEST(embedded_endpoint_name(40, 200, 0, 0) ==
             "embedded reference endpoint (GPU-like: 40 ms a request + 200 us a prompt)");
  BOOST_TEST(embedded_endpoint_name(0, 0, 12.5, 512) ==
             "embedded reference endpoint (GPU-like: 12.5 us a max_tokens step; 413 above 512 "
             "prompts)");
  BOOST_TEST(embedded_endpoint_name(0, 0, 0, 64) ==
             "embedded reference endpoint (answers at once; --server-latency-ms and "
             "--server-per-prompt-us make it GPU-like; 413 above 64 prompts)");
}

BOOST_AUTO_TEST_SUITE_END()
