// Tests for bench's stability windows: rates per window, too-short spans, and the 10% verdict.
#include "bench/measurement_windows.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>

using namespace promptpack::bench;

BOOST_AUTO_TEST_SUITE(measurement_windows)

BOOST_AUTO_TEST_CASE(a_steady_count_gives_equal_windows) {
  std::vector<count_sample> samples;
  for (int i = 0; i <= 100; ++i)
    samples.push_back({i * 0.01, static_cast<std::uint64_t>(i) * 1000});
  const auto rates = window_rates(samples, 1.0, 5);
  BOOST_REQUIRE_EQUAL(rates.size(), 5u);
  for (double r : rates) BOOST_TEST(std::abs(r - 100000.0) < 1e-6);
  BOOST_TEST(!windows_disagree(rates));
}

BOOST_AUTO_TEST_CASE(a_stall_in_one_window_is_unstable) {
  std::vector<count_sample> samples;
  std::uint64_t count = 0;
  for (int i = 0; i <= 100; ++i) {
    if (i < 40 || i >= 60) count += 1000;  // nothing completes between 0.4 s and 0.6 s
    samples.push_back({i * 0.01, count});
  }
  const auto rates = window_rates(samples, 1.0, 5);
  BOOST_TEST(windows_disagree(rates));
}

BOOST_AUTO_TEST_CASE(short_spans_get_fewer_windows_or_none) {
  const std::vector<count_sample> samples{{0.0, 0}, {0.1, 10}, {0.12, 12}};
  BOOST_TEST(window_rates(samples, 0.12, 5).size() == 2u);
  BOOST_TEST(window_rates(samples, 0.08, 5).empty());
  BOOST_TEST(!windows_disagree({}));
}

BOOST_AUTO_TEST_CASE(within_ten_percent_is_stable) {
  BOOST_TEST(!windows_disagree({100, 105, 95, 100}));
  BOOST_TEST(windows_disagree({100, 112, 98, 100}));
}

BOOST_AUTO_TEST_SUITE_END()
