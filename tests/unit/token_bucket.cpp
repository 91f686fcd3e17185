// Tests for the token bucket on a synthetic clock: no limit, full start, debt, cap, stepping back.
#include "batching/token_bucket.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>

namespace {

using namespace std::chrono_literals;
namespace pd = promptpack::detail;
using time_point = pd::token_bucket::clock::time_point;

const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);

// How far apart two times are, in nanoseconds (ready_at goes through a double: allow rounding).
long long off_ns(time_point a, time_point b) {
  return std::llabs(std::chrono::duration_cast<std::chrono::nanoseconds>(a - b).count());
}

constexpr long long rounding_ns = 1000;

}  // namespace

BOOST_AUTO_TEST_SUITE(token_bucket)

BOOST_AUTO_TEST_CASE(a_rate_of_zero_never_limits) {
  pd::token_bucket unset;
  pd::token_bucket zero(0.0);
  for (pd::token_bucket* bucket : {&unset, &zero}) {
    BOOST_TEST(!bucket->limited());
    BOOST_TEST(bucket->ready(t0));
    bucket->take(1e6, t0);
    BOOST_TEST(bucket->ready(t0));
    BOOST_TEST((bucket->ready_at(t0) == t0));
  }
}

BOOST_AUTO_TEST_CASE(starts_full_with_one_seconds_worth) {
  pd::token_bucket bucket(4.0);
  BOOST_TEST(bucket.limited());
  BOOST_TEST(bucket.ready(t0));
  BOOST_TEST((bucket.ready_at(t0) == t0));
  bucket.take(5, t0);  // four tokens were there: one is owed, repaid in a quarter second
  BOOST_TEST(!bucket.ready(t0));
  BOOST_TEST(off_ns(bucket.ready_at(t0), t0 + 250ms) <= rounding_ns);
}

BOOST_AUTO_TEST_CASE(a_slow_bucket_still_starts_with_one_token) {
  pd::token_bucket bucket(0.25);
  BOOST_TEST(bucket.ready(t0));
  bucket.take(2, t0);  // one token was there (not a quarter): one is owed, repaid in 4 s
  BOOST_TEST(!bucket.ready(t0));
  BOOST_TEST(off_ns(bucket.ready_at(t0), t0 + 4s) <= rounding_ns);
}

BOOST_AUTO_TEST_CASE(taking_drains_the_bucket) {
  pd::token_bucket bucket(3.0);
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST(bucket.ready(t0));
    bucket.take(1, t0);
  }
  BOOST_TEST(!bucket.ready(t0));
  // Tokens come back at the rate: one owed takes a third of a second to repay.
  bucket.take(1, t0);
  BOOST_TEST(!bucket.ready(t0 + 333ms));
  BOOST_TEST(bucket.ready(t0 + 334ms));
}

BOOST_AUTO_TEST_CASE(an_overdraw_delays_readiness_by_debt_over_rate) {
  pd::token_bucket bucket(4.0);
  bucket.take(10, t0);  // four there, six owed: 1.5 s at four per second
  BOOST_TEST(!bucket.ready(t0));
  BOOST_TEST(off_ns(bucket.ready_at(t0), t0 + 1500ms) <= rounding_ns);
  BOOST_TEST(!bucket.ready(t0 + 1499ms));
  // Asked again later, it names the same time.
  BOOST_TEST(off_ns(bucket.ready_at(t0 + 1499ms), t0 + 1500ms) <= rounding_ns);
  BOOST_TEST(bucket.ready(t0 + 1501ms));
}

BOOST_AUTO_TEST_CASE(refill_stops_at_capacity) {
  pd::token_bucket bucket(4.0);
  bucket.take(4, t0);
  BOOST_TEST(!bucket.ready(t0));
  // An hour idle refills one second's worth, not an hour's: five takes leave one owed.
  const time_point later = t0 + 1h;
  BOOST_TEST(bucket.ready(later));
  bucket.take(5, later);
  BOOST_TEST(!bucket.ready(later));
  BOOST_TEST(off_ns(bucket.ready_at(later), later + 250ms) <= rounding_ns);
}

BOOST_AUTO_TEST_CASE(ready_at_is_now_when_ready) {
  pd::token_bucket bucket(2.0);
  BOOST_TEST((bucket.ready_at(t0) == t0));
  bucket.take(1, t0);
  BOOST_TEST((bucket.ready_at(t0) == t0));  // one token left
  bucket.take(2, t0);                       // one owed: ready at t0 + 500 ms
  BOOST_TEST(off_ns(bucket.ready_at(t0 + 400ms), t0 + 500ms) <= rounding_ns);
  const time_point repaid = t0 + 700ms;
  BOOST_TEST((bucket.ready_at(repaid) == repaid));
}

BOOST_AUTO_TEST_CASE(an_earlier_now_neither_adds_nor_removes_tokens) {
  pd::token_bucket spare(10.0);
  spare.take(5, t0);
  BOOST_TEST(spare.ready(t0 - 1s));  // five left: an earlier time takes none away
  BOOST_TEST(spare.ready(t0));

  pd::token_bucket owing(10.0);
  owing.take(15, t0);                 // five owed: ready at t0 + 500 ms
  BOOST_TEST(!owing.ready(t0 - 5s));  // an earlier time repays nothing...
  // ...and does not move the bucket's clock back: from t0, 400 ms repay four of the five.
  BOOST_TEST(!owing.ready(t0 + 400ms));
  BOOST_TEST(off_ns(owing.ready_at(t0 + 400ms), t0 + 500ms) <= rounding_ns);
  BOOST_TEST(owing.ready(t0 + 501ms));
}

// The header's contract: ready_at gives the time at which ready() turns true. A bucket drained
// to exactly zero (rate 2, two takes at once: the common burst of max_requests_per_s) owes
// 1e-9 tokens, i.e. half a nanosecond, which the cast to clock::duration truncates to zero:
// ready_at returns `now` while ready(now) is false, so endpoint_table::next_change misses the
// throttle and the scheduler arms no wake-up for it. Fails until ready_at rounds up (ceil).
BOOST_AUTO_TEST_CASE(a_drained_bucket_is_ready_at_the_time_ready_at_gives) {
  pd::token_bucket bucket(2.0);
  bucket.take(1, t0);
  bucket.take(1, t0);
  BOOST_TEST(!bucket.ready(t0));
  const time_point at = bucket.ready_at(t0);
  BOOST_TEST((at > t0));
  BOOST_TEST(bucket.ready(at));
}

BOOST_AUTO_TEST_SUITE_END()
