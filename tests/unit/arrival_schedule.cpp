// Tests for open-loop arrival gaps: the mean is 1/rate, and burstiness moves the spread.
#include "bench/arrival_schedule.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <stdexcept>

namespace pb = promptpack::bench;

namespace {

struct gap_moments {
  double mean = 0;
  double coefficient_of_variation = 0;
};

gap_moments sample(double rate, double burstiness, int count = 200000) {
  pb::arrival_schedule schedule(rate, burstiness, 42);
  double sum = 0, squares = 0;
  for (int i = 0; i < count; ++i) {
    const double gap = schedule.next_gap_s();
    sum += gap;
    squares += gap * gap;
  }
  const double mean = sum / count;
  return {mean, std::sqrt(squares / count - mean * mean) / mean};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(arrival_schedule)

BOOST_AUTO_TEST_CASE(poisson_gaps_have_the_rate_and_unit_spread) {
  const auto m = sample(1e6, 1.0);
  BOOST_TEST(std::abs(m.mean * 1e6 - 1.0) < 0.01);
  BOOST_TEST(std::abs(m.coefficient_of_variation - 1.0) < 0.02);  // exponential: CV 1
}

BOOST_AUTO_TEST_CASE(burstiness_changes_the_spread_not_the_rate) {
  const auto bursty = sample(1000, 0.25);
  const auto steady = sample(1000, 4.0);
  BOOST_TEST(std::abs(bursty.mean * 1000 - 1.0) < 0.02);
  BOOST_TEST(std::abs(steady.mean * 1000 - 1.0) < 0.02);
  BOOST_TEST(std::abs(bursty.coefficient_of_variation - 2.0) < 0.1);  // gamma: CV 1/sqrt(shape)
  BOOST_TEST(std::abs(steady.coefficient_of_variation - 0.5) < 0.02);
}

BOOST_AUTO_TEST_CASE(the_same_seed_repeats_the_schedule) {
  pb::arrival_schedule a(100, 1, 7), b(100, 1, 7);
  for (int i = 0; i < 100; ++i) BOOST_TEST(a.next_gap_s() == b.next_gap_s());
}

BOOST_AUTO_TEST_CASE(a_rate_or_burstiness_of_zero_is_refused) {
  BOOST_CHECK_THROW(pb::arrival_schedule(0, 1), std::invalid_argument);
  BOOST_CHECK_THROW(pb::arrival_schedule(10, 0), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
