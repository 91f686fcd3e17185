// Tests for bench's latency histogram: exact small values, bounded error, quantile ranks, max.
#include "bench/latency_distribution.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

namespace pb = promptpack::bench;

BOOST_AUTO_TEST_SUITE(latency_distribution)

BOOST_AUTO_TEST_CASE(empty_reads_zero) {
  pb::latency_distribution d;
  BOOST_TEST(d.count() == 0u);
  BOOST_TEST(d.quantile_ns(0.99) == 0.0);
  BOOST_TEST(d.mean_ns() == 0.0);
}

BOOST_AUTO_TEST_CASE(values_below_64_are_exact) {
  pb::latency_distribution d;
  for (std::uint64_t v = 1; v <= 10; ++v) d.record(v);
  // The 5th of 10 values; each small value has its own bucket [v, v+1).
  BOOST_TEST(d.quantile_ns(0.5) == 5.5);
  BOOST_TEST(d.max_ns() == 10.0);
  BOOST_TEST(d.mean_ns() == 5.5);
}

BOOST_AUTO_TEST_CASE(every_quantile_is_within_two_percent) {
  // A spread from 100 ns to ~10 s: one value per step of 1.001x.
  pb::latency_distribution d;
  std::vector<double> values;
  for (double v = 100; v < 1e10; v *= 1.001) {
    values.push_back(v);
    d.record(static_cast<std::uint64_t>(v));
  }
  for (double q : {0.1, 0.5, 0.9, 0.99, 0.999}) {
    const double truth =
        values[static_cast<std::size_t>(q * static_cast<double>(values.size()) + 0.5) - 1];
    const double got = d.quantile_ns(q);
    BOOST_TEST(std::abs(got - truth) / truth < 0.02, "q " << q << ": " << got << " vs " << truth);
  }
}

BOOST_AUTO_TEST_CASE(counts_weigh_a_value) {
  pb::latency_distribution d;
  d.record(1000, 99);
  d.record(1'000'000, 1);
  BOOST_TEST(d.count() == 100u);
  BOOST_TEST(d.quantile_ns(0.99) < 1100.0);  // the 99th of 100 is still 1000 ns
  BOOST_TEST(d.quantile_ns(1.0) > 900'000.0);
  BOOST_TEST(d.max_ns() == 1e6);
}

BOOST_AUTO_TEST_CASE(the_top_quantile_never_exceeds_the_max) {
  pb::latency_distribution d;
  d.record(1'000'003);
  BOOST_TEST(d.quantile_ns(1.0) <= 1'000'003.0);
}

BOOST_AUTO_TEST_SUITE_END()
