// Tests for the Prometheus histogram: cumulative buckets, +Inf, _sum and _count.
#include "gateway/prometheus_histogram.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

BOOST_AUTO_TEST_SUITE(prometheus_histogram)

BOOST_AUTO_TEST_CASE(buckets_are_cumulative_and_count_is_the_last) {
  promptpack::gateway::prometheus_histogram histogram({1, 2.5});
  histogram.observe(0.5);
  histogram.observe(1);  // on a bound: counted in it (le means "less or equal")
  histogram.observe(2, 3);
  histogram.observe(100);
  std::string out;
  histogram.append(out, "x");
  BOOST_TEST(out ==
             "x_bucket{le=\"1\"} 2\n"
             "x_bucket{le=\"2.5\"} 5\n"
             "x_bucket{le=\"+Inf\"} 6\n"
             "x_sum 107.5\n"
             "x_count 6\n");
}

BOOST_AUTO_TEST_CASE(numbers_are_written_in_their_shortest_form) {
  BOOST_TEST(promptpack::gateway::prometheus_number(0.005) == "0.005");
  BOOST_TEST(promptpack::gateway::prometheus_number(60) == "60");
}

BOOST_AUTO_TEST_SUITE_END()
