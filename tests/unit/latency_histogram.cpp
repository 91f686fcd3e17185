// Tests for the latency histogram: quantiles of known distributions within bucket error,
// saturation.
#include "client/latency_histogram.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>

namespace {

using namespace std::chrono_literals;
using std::chrono::microseconds;
using histogram = promptpack::detail::latency_histogram;

// A bucket is 1/8 of a power of two wide and the quantile is its upper edge, so the answer lies
// in (exact, exact * 1.125] (for values of 8 us or more; below that buckets are 1 us wide).
constexpr double bucket_error = 0.125;

void check_near(const histogram& h, double q, std::int64_t exact_us) {
  BOOST_TEST_CONTEXT("q " << q << ", exact " << exact_us << " us") {
    const auto got = h.quantile(q).count();
    BOOST_TEST(got >= exact_us);
    BOOST_TEST(static_cast<double>(got) <= static_cast<double>(exact_us) * (1 + bucket_error) + 1);
  }
}

// The histogram holds 256 atomics: keep it off the stack of deeply nested test frames.
std::unique_ptr<histogram> make() {
  return std::make_unique<histogram>();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(latency_histogram)

BOOST_AUTO_TEST_CASE(empty_is_zero) {
  const auto h = make();
  for (double q : {0.0, 0.5, 0.99, 1.0}) BOOST_TEST(h->quantile(q).count() == 0);
}

BOOST_AUTO_TEST_CASE(single_value) {
  for (std::int64_t us :
       {0LL, 1LL, 7LL, 8LL, 9LL, 100LL, 1000LL, 12345LL, 1000000LL, 3600000000LL}) {
    const auto h = make();
    h->record(microseconds(us));
    for (double q : {0.0, 0.5, 1.0}) check_near(*h, q, us);
  }
}

BOOST_AUTO_TEST_CASE(uniform_distribution) {
  const auto h = make();
  constexpr std::int64_t n = 10000;
  for (std::int64_t us = 1; us <= n; ++us) h->record(microseconds(us));
  // With values 1..n, the value of rank floor(q * (n - 1)) + 1 is that rank.
  check_near(*h, 0.0, 1);
  check_near(*h, 0.5, 5000);
  check_near(*h, 0.9, 9000);
  check_near(*h, 0.99, 9900);
  check_near(*h, 1.0, n);
}

BOOST_AUTO_TEST_CASE(bimodal_distribution) {
  const auto h = make();
  for (int i = 0; i < 900; ++i) h->record(2ms);
  for (int i = 0; i < 100; ++i) h->record(750ms);
  check_near(*h, 0.5, 2000);
  check_near(*h, 0.89, 2000);
  check_near(*h, 0.95, 750000);
  check_near(*h, 0.99, 750000);
}

BOOST_AUTO_TEST_CASE(geometric_distribution) {
  // 2^k us recorded 2^(20-k) times: half the samples are 1 us, a quarter 2 us, and so on.
  const auto h = make();
  std::uint64_t total = 0;
  for (int k = 0; k <= 20; ++k) {
    for (std::uint64_t i = 0; i < (1u << (20 - k)); ++i) h->record(microseconds(1LL << k));
    total += 1u << (20 - k);
  }
  BOOST_TEST(total == (1u << 21) - 1);
  check_near(*h, 0.25, 1);
  check_near(*h, 0.6, 2);
  check_near(*h, 0.9, 8);
  check_near(*h, 0.999, 512);
  check_near(*h, 1.0, 1 << 20);
}

BOOST_AUTO_TEST_CASE(quantiles_never_decrease) {
  const auto h = make();
  for (std::int64_t us = 1; us < 5000000; us = us * 3 / 2 + 1) h->record(microseconds(us));
  std::int64_t previous = 0;
  for (int i = 0; i <= 100; ++i) {
    const auto got = h->quantile(i / 100.0).count();
    BOOST_TEST(got >= previous);
    previous = got;
  }
}

BOOST_AUTO_TEST_CASE(negative_latency_counts_as_zero) {
  const auto h = make();
  h->record(microseconds(-5));
  check_near(*h, 1.0, 0);
}

BOOST_AUTO_TEST_CASE(huge_values_saturate_into_the_last_bucket) {
  const auto h = make();
  h->record(microseconds(std::numeric_limits<microseconds::rep>::max()));
  const auto last = h->quantile(1.0).count();
  BOOST_TEST(last > 3600000000LL);  // beyond an hour: far past any sane timeout

  for (auto huge :
       {microseconds(std::numeric_limits<std::int64_t>::max() / 2), microseconds(1LL << 40),
        std::chrono::duration_cast<microseconds>(24h * 365), microseconds(1LL << 62)}) {
    h->record(huge);
    BOOST_TEST(h->quantile(1.0).count() == last);  // the same, last bucket
  }
  // Small values still land in their own buckets next to the saturated ones.
  for (int i = 0; i < 100; ++i) h->record(10ms);
  check_near(*h, 0.5, 10000);
  BOOST_TEST(h->quantile(1.0).count() == last);
}

BOOST_AUTO_TEST_SUITE_END()
