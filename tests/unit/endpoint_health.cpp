// Tests for endpoint health: the failure threshold, cool-down timing and growth, and recovery.
#include "retry/endpoint_health.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>

namespace {

using namespace std::chrono_literals;
using promptpack::detail::health_config;
using time_point = promptpack::detail::endpoint_health::clock::time_point;

constexpr int threshold = 3;
const time_point t0 = time_point{} + 1h;

struct health_fixture {
  promptpack::detail::endpoint_health health{
      health_config{.failure_threshold = threshold, .cooldown = 100ms, .max_cooldown = 400ms}};

  void fail(int times, time_point now) {
    for (int i = 0; i < times; ++i) health.on_failure(now);
  }

  // The length of the cool-down that started at `start`.
  long long cooldown_ms(time_point start) const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(health.cooling_until() - start)
        .count();
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(endpoint_health)

BOOST_FIXTURE_TEST_CASE(healthy_until_the_threshold, health_fixture) {
  BOOST_TEST(health.available(t0));
  BOOST_TEST(health.consecutive_failures() == 0);
  fail(threshold - 1, t0);
  BOOST_TEST(health.consecutive_failures() == threshold - 1);
  BOOST_TEST(health.available(t0));
  fail(1, t0);
  BOOST_TEST(health.consecutive_failures() == threshold);
  BOOST_TEST(!health.available(t0));
}

BOOST_FIXTURE_TEST_CASE(cool_down_lasts_its_length, health_fixture) {
  fail(threshold, t0);
  BOOST_TEST(cooldown_ms(t0) == 100);
  BOOST_TEST(!health.available(t0 + 99ms));
  BOOST_TEST(!health.available(t0 + 100ms - 1ns));
  BOOST_TEST(health.available(t0 + 100ms));
  BOOST_TEST(health.available(t0 + 1h));
}

BOOST_FIXTURE_TEST_CASE(cool_downs_double_up_to_the_cap, health_fixture) {
  fail(threshold, t0);
  BOOST_TEST(cooldown_ms(t0) == 100);
  // Every further failure in a row starts a longer cool-down from the time it happened.
  const long long expected[] = {200, 400, 400, 400};
  time_point now = t0;
  for (long long length : expected) {
    now += 1s;
    BOOST_TEST(health.available(now));
    fail(1, now);
    BOOST_TEST(cooldown_ms(now) == length);
    BOOST_TEST(!health.available(now));
  }
}

BOOST_FIXTURE_TEST_CASE(success_resets_failures_and_cool_down_length, health_fixture) {
  fail(threshold + 2, t0);  // cool-downs of 100, 200, then 400 ms
  BOOST_TEST(cooldown_ms(t0) == 400);
  health.on_success();
  BOOST_TEST(health.consecutive_failures() == 0);
  const time_point later = t0 + 1s;
  fail(threshold - 1, later);
  BOOST_TEST(health.available(later));  // the count starts over
  fail(1, later);
  BOOST_TEST(!health.available(later));
  BOOST_TEST(cooldown_ms(later) == 100);  // and so does the cool-down length
}

BOOST_FIXTURE_TEST_CASE(unreachable_cools_down_at_once, health_fixture) {
  health.on_unreachable(t0);
  BOOST_TEST(!health.available(t0));
  BOOST_TEST(cooldown_ms(t0) == 100);
  BOOST_TEST(health.consecutive_failures() >= threshold);
  BOOST_TEST(health.available(t0 + 100ms));
  // Past the threshold now, so the next failure of any kind cools down for longer.
  const time_point later = t0 + 1s;
  health.on_failure(later);
  BOOST_TEST(cooldown_ms(later) == 200);
  health.on_unreachable(later + 1s);
  BOOST_TEST(cooldown_ms(later + 1s) == 400);
}

BOOST_FIXTURE_TEST_CASE(unreachable_after_some_failures_counts_them, health_fixture) {
  fail(threshold - 1, t0);
  health.on_unreachable(t0);
  BOOST_TEST(health.consecutive_failures() == threshold);
  BOOST_TEST(cooldown_ms(t0) == 100);
}

BOOST_AUTO_TEST_SUITE_END()
