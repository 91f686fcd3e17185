// Tests for the endpoint table: load by weight, pauses, cool-downs, refusals, rate limits, caps.
#include "batching/endpoint_table.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstddef>
#include <cstdlib>

namespace {

using namespace std::chrono_literals;
namespace pd = promptpack::detail;
using time_point = pd::endpoint_table::clock::time_point;

const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
constexpr time_point never = time_point::max();

// Which endpoints have an idle connection.
constexpr auto all_idle = [](std::size_t) { return true; };
constexpr auto none_idle = [](std::size_t) { return false; };
auto only(std::size_t endpoint) {
  return [endpoint](std::size_t i) { return i == endpoint; };
}

// How far apart two times are, in nanoseconds (token buckets go through a double).
long long off_ns(time_point a, time_point b) {
  return std::llabs(std::chrono::duration_cast<std::chrono::nanoseconds>(a - b).count());
}

constexpr long long rounding_ns = 1000;

long long ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(endpoint_table)

BOOST_AUTO_TEST_CASE(pick_chooses_the_least_in_flight_per_weight) {
  pd::endpoint_table table({1.0, 3.0}, pd::endpoint_limits{});
  BOOST_TEST(table.size() == 2u);
  // Each batch goes to the least (in_flight + 1) / weight; ties go to the first endpoint.
  std::size_t handed[2] = {0, 0};
  for (int i = 0; i < 8; ++i) {
    const int picked = table.pick(t0, all_idle);
    BOOST_TEST_REQUIRE(picked >= 0);
    const auto e = static_cast<std::size_t>(picked);
    table.dispatched(e, 1, t0);
    ++handed[e];
  }
  BOOST_TEST(handed[0] == 2u);
  BOOST_TEST(handed[1] == 6u);
  BOOST_TEST(table.pick(t0, all_idle) == 1);  // 3/1 against 7/3

  // Ended exchanges lower the load: endpoint 0 is now idle and endpoint 1 is not.
  table.exchange_ended(0);
  table.exchange_ended(0);
  BOOST_TEST(table.pick(t0, all_idle) == 0);  // 1/1 against 7/3
}

BOOST_AUTO_TEST_CASE(equal_weights_alternate_and_ties_go_to_the_first) {
  pd::endpoint_table table({1.0, 1.0}, pd::endpoint_limits{});
  BOOST_TEST(table.pick(t0, all_idle) == 0);
  table.dispatched(0, 1, t0);
  BOOST_TEST(table.pick(t0, all_idle) == 1);
  table.dispatched(1, 1, t0);
  BOOST_TEST(table.pick(t0, all_idle) == 0);
}

BOOST_AUTO_TEST_CASE(pick_considers_only_endpoints_with_an_idle_connection) {
  pd::endpoint_table table({1.0, 3.0}, pd::endpoint_limits{});
  BOOST_TEST(table.pick(t0, all_idle) == 1);
  BOOST_TEST(table.pick(t0, only(0)) == 0);  // the heavier endpoint has no idle connection
  BOOST_TEST(table.pick(t0, none_idle) == -1);
}

BOOST_AUTO_TEST_CASE(a_paused_endpoint_is_skipped_until_its_pause_ends) {
  pd::endpoint_table lone({1.0}, pd::endpoint_limits{});
  lone.pause(0, t0 + 2s, t0);
  BOOST_TEST(lone.pick(t0, all_idle) == -1);
  BOOST_TEST(lone.pick(t0 + 2s - 1ns, all_idle) == -1);
  BOOST_TEST((lone.next_change(t0, all_idle) == t0 + 2s));
  BOOST_TEST((lone.next_change(t0, none_idle) == never));  // nothing idle to wake up for
  BOOST_TEST(lone.pick(t0 + 2s, all_idle) == 0);
  BOOST_TEST((lone.next_change(t0 + 2s, all_idle) == never));

  // With two, the other endpoint takes the load, however much it already has.
  pd::endpoint_table two({1.0, 1.0}, pd::endpoint_limits{});
  two.pause(0, t0 + 2s, t0);
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST(two.pick(t0 + 1s, all_idle) == 1);
    two.dispatched(1, 1, t0 + 1s);
  }
  BOOST_TEST(two.pick(t0 + 2s, all_idle) == 0);  // back, and the least loaded
}

BOOST_AUTO_TEST_CASE(a_cooling_endpoint_is_used_only_when_none_is_healthy) {
  pd::endpoint_table table({1.0, 1.0}, pd::endpoint_limits{});  // first cool-down: 2 s
  table.dispatched(1, 1, t0);
  table.dispatched(1, 1, t0);
  table.health(0).on_unreachable(t0);
  BOOST_TEST(table.pick(t0, all_idle) == 1);  // healthy, though busier
  // The healthy endpoint has no idle connection: work waits for it, not for the cooling one.
  BOOST_TEST(table.pick(t0, only(0)) == -1);
  BOOST_TEST((table.next_change(t0, only(0)) == t0 + 2s));
  BOOST_TEST(table.pick(t0 + 2s, only(0)) == 0);  // cooled down

  // None healthy: a cool-down moves traffic, it never strands it.
  table.health(1).on_unreachable(t0);
  BOOST_TEST(table.pick(t0, all_idle) == 0);  // the least loaded of the cooling ones
  BOOST_TEST(table.pick(t0, only(1)) == 1);
}

BOOST_AUTO_TEST_CASE(a_refusing_endpoint_does_not_count_as_healthy) {
  pd::endpoint_table table({1.0, 1.0}, pd::endpoint_limits{.refusals_before_stop = 1});
  table.refused(1, 401, "HTTP 401 Unauthorized");
  table.health(0).on_unreachable(t0);
  BOOST_TEST(table.pick(t0, all_idle) == 0);  // cooling, but the only one that still answers
}

BOOST_AUTO_TEST_CASE(refusals_in_a_row_stop_an_endpoint) {
  pd::endpoint_table table({1.0, 1.0}, pd::endpoint_limits{.refusals_before_stop = 3});
  table.refused(0, 401, "HTTP 401 first");
  table.refused(0, 401, "HTTP 401 second");
  BOOST_TEST(table.pick(t0, only(0)) == 0);  // two in a row: still used
  table.answered(0);                         // the streak ends
  table.refused(0, 401, "HTTP 401 third");
  table.refused(0, 401, "HTTP 401 fourth");
  BOOST_TEST(table.pick(t0, only(0)) == 0);  // two in a row again, not four
  BOOST_TEST(!table.all_refusing());

  table.refused(0, 401, "HTTP 401 Unauthorized");  // the third in a row
  BOOST_TEST(table.pick(t0, only(0)) == -1);
  BOOST_TEST(table.pick(t0 + 1h, only(0)) == -1);  // for good, not for a while
  BOOST_TEST((table.next_change(t0, only(0)) == never));
  BOOST_TEST(table.pick(t0, all_idle) == 1);
  BOOST_TEST(!table.all_refusing());
  BOOST_TEST(table.refusal_reason() == "HTTP 401 Unauthorized");
  BOOST_TEST(table.refusal_status() == 401);
  BOOST_TEST(!table.another_available(1, t0));

  for (int i = 0; i < 3; ++i) table.refused(1, 403, "HTTP 403 Forbidden");
  BOOST_TEST(table.all_refusing());
  BOOST_TEST(table.refusal_reason() == "HTTP 403 Forbidden");  // the last one's answer
  BOOST_TEST(table.refusal_status() == 403);
  BOOST_TEST(table.pick(t0, all_idle) == -1);
}

BOOST_AUTO_TEST_CASE(refusals_before_stop_is_at_least_one) {
  pd::endpoint_table table({1.0}, pd::endpoint_limits{.refusals_before_stop = 0});
  BOOST_TEST(!table.all_refusing());
  table.refused(0, 404, "HTTP 404 Not Found");
  BOOST_TEST(table.all_refusing());
  BOOST_TEST(table.pick(t0, all_idle) == -1);
}

BOOST_AUTO_TEST_CASE(max_requests_per_s_throttles_dispatches) {
  pd::endpoint_table table({1.0}, pd::endpoint_limits{.max_requests_per_s = 2.0});
  // The bucket starts with one second's worth: two requests go at once, then it is empty.
  for (int i = 0; i < 2; ++i) {
    BOOST_TEST_REQUIRE(table.pick(t0, all_idle) == 0);
    table.dispatched(0, 1, t0);
  }
  BOOST_TEST(table.pick(t0, all_idle) == -1);

  // A request may go once any token is back, and overdraws the bucket: after one at
  // t0 + 100 ms, 0.8 requests are owed, so the next waits until t0 + 500 ms.
  const time_point t1 = t0 + 100ms;
  BOOST_TEST_REQUIRE(table.pick(t1, all_idle) == 0);
  table.dispatched(0, 1, t1);
  BOOST_TEST(table.pick(t1, all_idle) == -1);
  BOOST_TEST(off_ns(table.next_change(t1, all_idle), t0 + 500ms) <= rounding_ns);
  BOOST_TEST((table.next_change(t1, none_idle) == never));
  BOOST_TEST(table.pick(t0 + 499ms, all_idle) == -1);
  BOOST_TEST(table.pick(t0 + 501ms, all_idle) == 0);
}

BOOST_AUTO_TEST_CASE(a_batch_not_sent_gives_its_tokens_back) {
  pd::endpoint_table table(
      {1.0}, pd::endpoint_limits{.max_requests_per_s = 1.0, .max_prompts_per_s = 10.0});
  BOOST_TEST_REQUIRE(table.pick(t0, all_idle) == 0);
  table.dispatched(0, 10, t0);
  BOOST_TEST(table.pick(t0, all_idle) == -1);  // both buckets are empty
  // Every caller cancelled before it was sent: the request and its prompts come back.
  table.exchange_ended(0);
  table.not_sent(0, 10);
  BOOST_TEST(table.pick(t0, all_idle) == 0);
}

BOOST_AUTO_TEST_CASE(prompts_dropped_from_a_sent_batch_give_their_tokens_back) {
  pd::endpoint_table table({1.0}, pd::endpoint_limits{.max_prompts_per_s = 10.0});
  table.dispatched(0, 10, t0);
  BOOST_TEST(table.pick(t0, all_idle) == -1);  // the prompt bucket is empty
  // Four callers cancelled before the batch went: the six others were sent, the four come back.
  table.prompts_not_sent(0, 4);
  BOOST_TEST(table.pick(t0, all_idle) == 0);
  table.dispatched(0, 4, t0);
  BOOST_TEST(table.pick(t0, all_idle) == -1);
}

BOOST_AUTO_TEST_CASE(max_prompts_per_s_counts_prompts) {
  pd::endpoint_table table({1.0}, pd::endpoint_limits{.max_prompts_per_s = 10.0});
  table.dispatched(0, 4, t0);
  BOOST_TEST(table.pick(t0, all_idle) == 0);  // six prompts left
  table.dispatched(0, 4, t0);
  BOOST_TEST(table.pick(t0, all_idle) == 0);  // two left: a batch may still go, and overdraw
  table.dispatched(0, 4, t0);                 // two owed: 200 ms at ten per second
  BOOST_TEST(table.pick(t0, all_idle) == -1);
  BOOST_TEST(off_ns(table.next_change(t0, all_idle), t0 + 200ms) <= rounding_ns);
  BOOST_TEST(table.pick(t0 + 199ms, all_idle) == -1);
  BOOST_TEST(table.pick(t0 + 201ms, all_idle) == 0);
}

BOOST_AUTO_TEST_CASE(pauses_add_up_without_counting_overlaps_twice) {
  pd::endpoint_table table({1.0, 1.0}, pd::endpoint_limits{});
  BOOST_TEST(ms(table.rate_limit_wait()) == 0);
  table.pause(0, t0 + 2s, t0);
  BOOST_TEST(ms(table.rate_limit_wait()) == 2000);
  table.pause(0, t0 + 1s, t0 + 500ms);  // within the first: nothing more
  BOOST_TEST(ms(table.rate_limit_wait()) == 2000);
  BOOST_TEST(table.pick(t0 + 1500ms, only(0)) == -1);  // nor does it cut the first one short
  table.pause(0, t0 + 3s, t0 + 1s);                    // only its last second is new
  BOOST_TEST(ms(table.rate_limit_wait()) == 3000);
  table.pause(1, t0 + 500ms, t0);  // another endpoint's pause counts on its own
  BOOST_TEST(ms(table.rate_limit_wait()) == 3500);
  table.pause(0, t0 + 4s, t0 + 5s);  // already over: nothing
  BOOST_TEST(ms(table.rate_limit_wait()) == 3500);
  table.pause(0, t0 + 6s, t0 + 5s);  // after the last one ended: counted from now
  BOOST_TEST(ms(table.rate_limit_wait()) == 4500);
  BOOST_TEST(table.pick(t0 + 5500ms, only(0)) == -1);
  BOOST_TEST(table.pick(t0 + 6s, only(0)) == 0);

  BOOST_TEST(table.rate_limited_answers() == 0u);
  table.rate_limited();
  table.rate_limited();
  BOOST_TEST(table.rate_limited_answers() == 2u);
  BOOST_TEST(ms(table.rate_limit_wait()) == 4500);  // answers are counted apart from pauses
}

BOOST_AUTO_TEST_CASE(a_413_halves_the_limit_which_only_lowers) {
  pd::endpoint_table table({1.0, 1.0}, pd::endpoint_limits{.max_batch_prompts = 8});
  BOOST_TEST(table.batch_limit(0) == 8u);
  table.too_large(0, 6, t0);
  BOOST_TEST(table.batch_limit(0) == 3u);
  table.too_large(0, 10, t0);  // no effect: limits only drop
  BOOST_TEST(table.batch_limit(0) == 3u);
  table.too_large(0, 1, t0);  // one prompt refused: its length, not a count
  BOOST_TEST(table.batch_limit(0) == 3u);
  table.too_large(0, 2, t0);
  BOOST_TEST(table.batch_limit(0) == 1u);
  BOOST_TEST(table.batch_limit(1) == 8u);  // the other endpoint keeps its own
}

BOOST_AUTO_TEST_CASE(an_answer_as_large_as_a_refused_batch_lifts_that_limit) {
  pd::endpoint_table table({1.0}, pd::endpoint_limits{.max_batch_prompts = 256});
  table.too_large(0, 128, t0);
  table.too_large(0, 200, t0);
  BOOST_TEST(table.batch_limit(0) == 64u);
  // A batch of 128 answered: the 413 at 128 was about one of its prompts.
  table.measured(0, 128, 10ms, t0);
  BOOST_TEST(table.batch_limit(0) == 100u);  // the 413 at 200 still counts
  table.too_large(0, 128, t0);               // no longer a count: 128 was answered
  BOOST_TEST(table.batch_limit(0) == 100u);
}

BOOST_AUTO_TEST_CASE(refusals_at_an_answered_size_count_on_the_third_in_a_row) {
  // Batches of 64 went through; now every batch of 64 is refused while its halves of 32 are
  // answered: the prompts got longer (or the endpoint's limit dropped), not one long prompt.
  pd::endpoint_table table({1.0}, pd::endpoint_limits{.max_batch_prompts = 64});
  table.measured(0, 64, 10ms, t0);
  for (int i = 0; i < 2; ++i) {
    table.measured(0, 32, 10ms, t0);
    table.too_large(0, 64, t0);
    BOOST_TEST(table.batch_limit(0) == 64u);  // a doubt, not yet a limit
  }
  table.measured(0, 32, 10ms, t0);
  table.too_large(0, 64, t0);
  BOOST_TEST(table.batch_limit(0) == 32u);
}

BOOST_AUTO_TEST_CASE(one_long_prompt_bisected_down_does_not_collapse_the_limit) {
  // A batch of 256 holding one prompt too long for the endpoint: each split answers one half and
  // refuses the other, down to the prompt alone. Answers and refusals may come in either order.
  pd::endpoint_table table({1.0}, pd::endpoint_limits{.max_batch_prompts = 256});
  table.too_large(0, 256, t0);
  for (std::size_t half = 128; half >= 1; half /= 2) {
    if (half % 2 == 0) {
      table.too_large(0, half, t0);
      table.measured(0, half, 10ms, t0);
    } else {
      table.measured(0, half, 10ms, t0);
      table.too_large(0, half, t0);
    }
  }
  BOOST_TEST(table.batch_limit(0) == 128u);  // the first 413 counts once; nothing after it
}

BOOST_AUTO_TEST_CASE(another_available_looks_at_the_other_endpoints_only) {
  pd::endpoint_table lone({1.0}, pd::endpoint_limits{});
  BOOST_TEST(!lone.another_available(0, t0));

  pd::endpoint_table table({1.0, 1.0}, pd::endpoint_limits{.refusals_before_stop = 1});
  BOOST_TEST(table.another_available(0, t0));
  table.pause(0, t0 + 1s, t0);
  BOOST_TEST(table.another_available(0, t0));  // its own pause does not matter
  BOOST_TEST(!table.another_available(1, t0));
  BOOST_TEST(table.another_available(1, t0 + 1s));

  table.health(1).on_unreachable(t0 + 1s);  // cooling until t0 + 3 s
  BOOST_TEST(!table.another_available(0, t0 + 2s));
  BOOST_TEST(table.another_available(0, t0 + 3s));

  table.refused(1, 405, "HTTP 405 Method Not Allowed");
  BOOST_TEST(!table.another_available(0, t0 + 1h));
}

BOOST_AUTO_TEST_SUITE_END()
