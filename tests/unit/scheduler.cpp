// Tests for the scheduler on a synthetic clock: batching, endpoint choice, limits, retries, close.
#include "batching/scheduler.hpp"

#include <boost/test/unit_test.hpp>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace promptpack {
// Lets BOOST_TEST print an error type that differs from the expected one.
static std::ostream& boost_test_print_type(std::ostream& out, errc type) {
  return out << to_string(type);
}
}  // namespace promptpack

namespace {

using namespace std::chrono_literals;
namespace pd = promptpack::detail;
using promptpack::errc;
using group_ptr = promptpack::detail::group_ptr;
using time_point = pd::clock::time_point;

// The synthetic clock starts ten years past the steady clock's epoch, far beyond anything the
// real clock reads during a run. The scheduler's wake-up timer (the one place that reads the
// real clock) is armed at synthetic times, so it never fires: every test moves `now` by hand and
// lets the scheduler act at that time (tick(), park(), enqueue()...).
const time_point t0 = time_point{} + std::chrono::hours(24 * 365 * 10);

struct null_sink final : promptpack::bulk_sink {
  void on_results(std::span<const promptpack::bulk_result>) override {}
  void on_complete() override {}
};

group_ptr make_group(std::string model = "custom/m") {
  return std::make_shared<const pd::request_group>(std::move(model), promptpack::sampling_params{});
}

// A config whose partial batches wait an hour for company (unless a test says otherwise).
pd::scheduler_config config(std::size_t max_prompts, std::chrono::microseconds max_delay = 1h) {
  pd::scheduler_config c;
  c.max_batch_prompts = max_prompts;
  c.max_delay = max_delay;
  return c;
}

long long ms(pd::clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

struct handed_out {
  std::size_t endpoint;
  pd::batch_ptr batch;  // nullptr: the connection is told to end
};

struct failed {
  pd::batch_ptr batch;
  errc type;
  int status;  // the outcome's HTTP status, when it has one
  std::string detail;
};

struct scheduler_fixture {
  boost::asio::io_context io;  // outlives the scheduler and its timer
  null_sink sink;
  pd::submission owner{sink, 0};
  const std::string text = std::string(4096, 'x');
  group_ptr group = make_group();
  time_point now = t0;  // the synthetic clock: every call below passes it
  std::vector<handed_out> received;
  std::vector<failed> failures;
  std::unique_ptr<pd::scheduler> sched;

  void start(pd::scheduler_config c, std::vector<double> weights = {1.0}) {
    sched = std::make_unique<pd::scheduler>(
        io.get_executor(), c, std::move(weights),
        [this](pd::batch_ptr b, const pd::exchange_outcome& why, errc type) {
          failures.push_back({std::move(b), type, why.status, why.detail});
        });
  }

  // `count` prompts of `length` bytes, numbered from `first`.
  std::vector<pd::work_item> items(std::size_t count, std::size_t first = 0,
                                   std::size_t length = 5) {
    std::vector<pd::work_item> out;
    for (std::size_t i = 0; i < count; ++i) {
      out.push_back({.prompt = std::string_view(text).substr(0, length),
                     .owner = &owner,
                     .index = first + i});
    }
    return out;
  }

  void enqueue(std::size_t count, std::size_t first = 0, const group_ptr& g = {}) {
    sched->enqueue(g ? g : group, items(count, first), now);
  }

  // `times` idle connections of `endpoint` ask for their next batch (what async_next_batch does,
  // at the synthetic time). What they get arrives in `received` on poll().
  void park(std::size_t endpoint = 0, std::size_t times = 1) {
    for (std::size_t i = 0; i < times; ++i) {
      sched->park(endpoint, pd::scheduler::next_batch_handler([this, endpoint](pd::batch_ptr b) {
                    received.push_back({endpoint, std::move(b)});
                  }),
                  now);
    }
  }

  // Lets the scheduler act at `now` and changes nothing else: what its wake-up timer does when
  // it fires (releasing no prompts is a no-op apart from the pump).
  void tick() { sched->release(0, now); }

  // Runs the handlers that are ready now, such as hand-offs (a bounded number, so that a timer
  // that keeps firing fails the test instead of hanging it).
  std::size_t poll() {
    io.restart();
    std::size_t ran = 0;
    while (ran < 10000 && io.poll_one() != 0) ++ran;
    return ran;
  }

  // The prompt numbers of a batch, in order.
  static std::vector<std::size_t> indices(const pd::batch& b) {
    std::vector<std::size_t> out;
    for (const auto& item : b.items) out.push_back(item.index);
    return out;
  }

  static std::vector<std::size_t> range(std::size_t first, std::size_t count) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < count; ++i) out.push_back(first + i);
    return out;
  }

  std::size_t handed_to(std::size_t endpoint) const {
    return static_cast<std::size_t>(std::ranges::count_if(
        received, [&](const handed_out& h) { return h.endpoint == endpoint && h.batch; }));
  }

  // Takes the only batch handed out so far.
  pd::batch_ptr take_single() {
    BOOST_TEST_REQUIRE(received.size() == 1u);
    BOOST_TEST_REQUIRE(received[0].batch != nullptr);
    auto b = std::move(received[0].batch);
    received.clear();
    return b;
  }

  // Every prompt number of the failed batches, sorted.
  std::vector<std::size_t> failed_indices() const {
    std::vector<std::size_t> all;
    for (const auto& f : failures) {
      for (auto i : indices(*f.batch)) all.push_back(i);
    }
    std::ranges::sort(all);
    return all;
  }

  static pd::exchange_outcome outcome(pd::exchange_result result, int status = 0) {
    return {.result = result, .status = status, .retry_after = std::nullopt, .detail = ""};
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(scheduler)

// --- forming batches ---

BOOST_FIXTURE_TEST_CASE(batches_close_at_max_batch_prompts, scheduler_fixture) {
  start(config(4));
  park(0, 3);
  enqueue(10);
  poll();
  BOOST_TEST_REQUIRE(received.size() == 2u);  // the last two prompts wait for company
  BOOST_TEST(indices(*received[0].batch) == range(0, 4));
  BOOST_TEST(indices(*received[1].batch) == range(4, 4));
  BOOST_TEST(received[0].batch->group == group);

  // Prompts of later enqueue calls join the open batch.
  enqueue(1, 10);
  poll();
  BOOST_TEST(received.size() == 2u);
  enqueue(1, 11);
  poll();
  BOOST_TEST_REQUIRE(received.size() == 3u);
  BOOST_TEST(indices(*received[2].batch) == (std::vector<std::size_t>{8, 9, 10, 11}));
}

BOOST_FIXTURE_TEST_CASE(batches_close_at_max_batch_bytes, scheduler_fixture) {
  constexpr std::size_t length = 10;
  auto c = config(64);
  const std::size_t per_prompt = length + 4;  // the prompt plus its JSON quoting and comma
  c.max_batch_bytes = group->writer.fixed_bytes() + 2 * per_prompt;
  start(c);
  park(0, 3);
  sched->enqueue(group, items(5, 0, length), now);
  poll();
  BOOST_TEST_REQUIRE(received.size() == 2u);
  for (const auto& h : received) {
    BOOST_TEST(h.batch->items.size() == 2u);
    BOOST_TEST(h.batch->bytes <= c.max_batch_bytes);
  }
  BOOST_TEST(indices(*received[0].batch) == range(0, 2));
  BOOST_TEST(indices(*received[1].batch) == range(2, 2));
}

BOOST_FIXTURE_TEST_CASE(a_later_prompt_that_does_not_fit_the_open_batch_closes_it,
                        scheduler_fixture) {
  constexpr std::size_t length = 10;
  auto c = config(64);
  c.max_batch_bytes = group->writer.fixed_bytes() + 2 * (length + 4);
  start(c);
  park(0, 3);
  sched->enqueue(group, items(2, 0, length), now);  // exactly full by bytes: waits for company
  poll();
  BOOST_TEST(received.empty());
  sched->enqueue(group, items(3, 2, length), now);  // the first of these does not fit
  poll();
  BOOST_TEST_REQUIRE(received.size() == 2u);
  BOOST_TEST(indices(*received[0].batch) == range(0, 2));
  BOOST_TEST(indices(*received[1].batch) == range(2, 2));
}

BOOST_FIXTURE_TEST_CASE(a_prompt_larger_than_max_batch_bytes_travels_alone, scheduler_fixture) {
  auto c = config(64);
  c.max_batch_bytes = group->writer.fixed_bytes() + 100;
  start(c);
  park(0, 3);
  auto work = items(3, 0, 5);
  work[1].prompt = std::string_view(text).substr(0, 1000);
  sched->enqueue(group, work, now);
  poll();
  BOOST_TEST_REQUIRE(received.size() == 2u);
  BOOST_TEST(indices(*received[0].batch) == range(0, 1));
  BOOST_TEST(indices(*received[1].batch) == range(1, 1));
}

BOOST_FIXTURE_TEST_CASE(with_no_delay_a_partial_batch_goes_to_an_idle_connection_at_once,
                        scheduler_fixture) {
  start(config(64, 0us));
  park();
  enqueue(3);
  poll();
  BOOST_TEST_REQUIRE(received.size() == 1u);
  BOOST_TEST(indices(*received[0].batch) == range(0, 3));

  // Also when the connection comes after the prompts.
  enqueue(2, 3);
  park();
  poll();
  BOOST_TEST_REQUIRE(received.size() == 2u);
  BOOST_TEST(indices(*received[1].batch) == range(3, 2));
}

BOOST_FIXTURE_TEST_CASE(with_a_delay_a_partial_batch_waits_for_company, scheduler_fixture) {
  constexpr auto delay = 60ms;
  start(config(64, delay));
  park();
  enqueue(1);
  poll();
  BOOST_TEST(received.empty());
  now += 30ms;
  enqueue(1, 1);  // joins the open batch; the delay still counts from the first prompt
  poll();
  BOOST_TEST(received.empty());
  now = t0 + delay - 1us;
  tick();
  poll();
  BOOST_TEST(received.empty());
  now = t0 + delay;
  tick();
  poll();
  BOOST_TEST_REQUIRE(received.size() == 1u);
  BOOST_TEST(indices(*received[0].batch) == range(0, 2));
  BOOST_TEST((received[0].batch->opened == t0));
}

BOOST_FIXTURE_TEST_CASE(with_a_delay_a_full_batch_goes_at_once, scheduler_fixture) {
  start(config(3, 1h));
  park();
  enqueue(2);
  poll();
  BOOST_TEST(received.empty());
  enqueue(1, 2);
  poll();
  BOOST_TEST_REQUIRE(received.size() == 1u);
  BOOST_TEST(indices(*received[0].batch) == range(0, 3));
}

BOOST_FIXTURE_TEST_CASE(a_batch_that_waited_its_delay_goes_when_a_connection_comes,
                        scheduler_fixture) {
  constexpr auto delay = 20ms;
  start(config(64, delay));
  enqueue(1);
  now += delay - 1ms;
  park();  // too early: the connection waits, and so does the batch
  poll();
  BOOST_TEST(received.empty());
  now += 1ms;
  park();
  poll();
  BOOST_TEST_REQUIRE(received.size() == 1u);
  BOOST_TEST(indices(*received[0].batch) == range(0, 1));
}

BOOST_FIXTURE_TEST_CASE(nothing_runs_while_no_connection_is_idle, scheduler_fixture) {
  // Work that is due but has nowhere to go must not arm the wake-up timer: the next connection
  // to park picks it up. Here the synthetic time lies in the real clock's past, so a timer armed
  // for the due batch would fire inside poll() (and, re-armed, keep firing).
  now = time_point{} + 1s;
  start(config(64, 0us));
  enqueue(1);
  BOOST_TEST(poll() == 0u);
  park();
  BOOST_TEST(poll() == 1u);  // the hand-off, and nothing else
  BOOST_TEST_REQUIRE(received.size() == 1u);
  BOOST_TEST(indices(*received[0].batch) == range(0, 1));
}

BOOST_FIXTURE_TEST_CASE(groups_never_mix, scheduler_fixture) {
  start(config(64, 0us));
  const group_ptr other = make_group("custom/other");
  enqueue(2, 0, group);
  enqueue(2, 2, other);
  enqueue(1, 4, group);
  park(0, 3);
  poll();
  BOOST_TEST_REQUIRE(received.size() == 2u);
  for (const auto& h : received) {
    if (h.batch->group == group) {
      BOOST_TEST(indices(*h.batch) == (std::vector<std::size_t>{0, 1, 4}));
    } else {
      BOOST_TEST(h.batch->group == other);
      BOOST_TEST(indices(*h.batch) == range(2, 2));
    }
  }
  BOOST_TEST(received[0].batch->group != received[1].batch->group);
}

BOOST_FIXTURE_TEST_CASE(recycled_batches_come_back_cleared, scheduler_fixture) {
  start(config(64, 0us));
  park();
  enqueue(3);
  poll();
  auto b = take_single();
  b->budget = {.sent = 1, .unsent = 1};
  const pd::batch* const address = b.get();
  sched->recycle(std::move(b));
  auto again = sched->make_batch();
  BOOST_TEST(again.get() == address);
  BOOST_TEST(again->items.empty());
  BOOST_TEST(again->bytes == 0u);
  BOOST_TEST(again->group == nullptr);
  BOOST_TEST(again->budget.sent == 0);
  BOOST_TEST(again->budget.unsent == 0);
}

// --- choosing endpoints ---

BOOST_FIXTURE_TEST_CASE(weighted_choice_follows_load_over_weight, scheduler_fixture) {
  start(config(1, 0us), {1.0, 3.0});
  park(0, 8);
  park(1, 8);
  // Each batch goes to the least (in_flight + 1) / weight; ties go to the first endpoint.
  enqueue(8);
  poll();
  BOOST_TEST(received.size() == 8u);
  BOOST_TEST(handed_to(0) == 2u);
  BOOST_TEST(handed_to(1) == 6u);

  // Finished exchanges lower the load: endpoint 1 is now idle and endpoint 0 is not.
  for (int i = 0; i < 6; ++i) sched->exchange_done(1, outcome(pd::exchange_result::ok), now);
  enqueue(1, 8);
  poll();
  BOOST_TEST_REQUIRE(received.size() == 9u);
  BOOST_TEST(received.back().endpoint == 1u);
}

BOOST_FIXTURE_TEST_CASE(equal_weights_share_evenly, scheduler_fixture) {
  start(config(1, 0us), {1.0, 1.0, 1.0});
  for (std::size_t e = 0; e < 3; ++e) park(e, 4);
  enqueue(9);
  poll();
  for (std::size_t e = 0; e < 3; ++e) BOOST_TEST(handed_to(e) == 3u);
}

BOOST_FIXTURE_TEST_CASE(a_cooling_endpoint_gets_no_work_while_another_is_healthy,
                        scheduler_fixture) {
  start(config(64, 0us), {1.0, 1.0});
  park(0);
  enqueue(1);
  poll();
  take_single();
  // A refused connection cools the endpoint down at once, for 2 s (the default first cool-down).
  sched->exchange_done(0, outcome(pd::exchange_result::connect_failed), now);
  BOOST_TEST(!sched->another_endpoint_available(1, now));
  BOOST_TEST(sched->another_endpoint_available(0, now));

  park(0);
  park(1);
  enqueue(1, 1);
  poll();
  BOOST_TEST_REQUIRE(received.size() == 1u);
  BOOST_TEST(received[0].endpoint == 1u);

  // With the healthy endpoint busy, work waits for it rather than going to the cooling one.
  enqueue(1, 2);
  poll();
  BOOST_TEST(received.size() == 1u);
  park(1);
  poll();
  BOOST_TEST_REQUIRE(received.size() == 2u);
  BOOST_TEST(received[1].endpoint == 1u);
  BOOST_TEST(indices(*received[1].batch) == range(2, 1));

  // Once the cool-down is over, the endpoint takes work again.
  enqueue(1, 3);
  now = t0 + 2s - 1us;
  tick();
  poll();
  BOOST_TEST(received.size() == 2u);
  now = t0 + 2s;
  tick();
  poll();
  BOOST_TEST_REQUIRE(received.size() == 3u);
  BOOST_TEST(received[2].endpoint == 0u);
  BOOST_TEST(indices(*received[2].batch) == range(3, 1));
}

BOOST_FIXTURE_TEST_CASE(a_cooling_endpoint_still_gets_work_when_it_is_the_only_one,
                        scheduler_fixture) {
  start(config(64, 0us), {1.0});
  park(0);
  enqueue(1);
  poll();
  take_single();
  sched->exchange_done(0, outcome(pd::exchange_result::connect_failed), now);
  park(0);
  enqueue(1, 1);
  poll();
  BOOST_TEST_REQUIRE(received.size() == 1u);
  BOOST_TEST(indices(*received[0].batch) == range(1, 1));
}

BOOST_FIXTURE_TEST_CASE(a_paused_endpoint_gets_no_batch_until_its_pause_ends, scheduler_fixture) {
  start(config(1, 0us), {1.0, 1.0});
  sched->pause_endpoint(0, now + 2s, now);
  BOOST_TEST(!sched->another_endpoint_available(1, now));
  BOOST_TEST(sched->another_endpoint_available(0, now));
  park(0);
  park(1);
  enqueue(2);  // two batches of one prompt
  poll();
  // The other endpoint takes the work it can; the rest waits for it or for the pause to end.
  BOOST_TEST_REQUIRE(received.size() == 1u);
  BOOST_TEST(received[0].endpoint == 1u);
  BOOST_TEST(indices(*received[0].batch) == range(0, 1));

  now = t0 + 2s - 1us;
  tick();
  poll();
  BOOST_TEST(received.size() == 1u);
  now = t0 + 2s;
  tick();
  poll();
  BOOST_TEST_REQUIRE(received.size() == 2u);
  BOOST_TEST(received[1].endpoint == 0u);
  BOOST_TEST(indices(*received[1].batch) == range(1, 1));
  BOOST_TEST(sched->another_endpoint_available(1, now));
}

BOOST_FIXTURE_TEST_CASE(when_every_endpoint_refuses_queued_batches_fail_at_once,
                        scheduler_fixture) {
  start(config(2, 1h), {1.0, 1.0});
  park(0);
  enqueue(5);
  poll();
  // Queued: a batch backing off, a full one waiting for a connection and a partial one.
  sched->retry_later(take_single(), now + 1h, now);  // prompts 0 and 1
  for (int i = 0; i < 3; ++i) sched->endpoint_refused(0, 401, "HTTP 401 Unauthorized");
  for (int i = 0; i < 2; ++i) sched->endpoint_refused(1, 403, "HTTP 403 Forbidden");
  tick();
  BOOST_TEST(failures.empty());  // endpoint 1 may still answer

  sched->endpoint_refused(1, 403, "HTTP 403 Forbidden");  // now every endpoint has stopped
  tick();                                                 // no time passes
  BOOST_TEST_REQUIRE(failures.size() == 3u);
  for (const auto& f : failures) {
    BOOST_TEST(f.type == errc::http_status);
    BOOST_TEST(f.status == 403);
    BOOST_TEST(f.detail.starts_with("HTTP 403 Forbidden"));  // the last endpoint's answer
    BOOST_TEST(f.detail.find("API key") != std::string::npos);
  }
  BOOST_TEST(failed_indices() == range(0, 5));

  // New work fails as it comes, and a connection that asks gets nothing (nor is told to end).
  enqueue(1, 5);
  BOOST_TEST_REQUIRE(failures.size() == 4u);
  BOOST_TEST(failures[3].type == errc::http_status);
  BOOST_TEST(indices(*failures[3].batch) == range(5, 1));
  park(1);
  poll();
  BOOST_TEST(received.empty());
}

// --- client-side limits ---

BOOST_FIXTURE_TEST_CASE(a_lowered_batch_limit_splits_batches_of_that_endpoint_only,
                        scheduler_fixture) {
  start(config(8), {1.0, 1.0});
  sched->too_large(0, 6, t0);  // a 413 at 6: batches of 3 from now on
  park(0, 3);
  enqueue(8);
  poll();
  BOOST_TEST_REQUIRE(received.size() == 3u);
  // Dealt from the back: each part is the last prompts of what is left.
  BOOST_TEST(indices(*received[0].batch) == range(5, 3));
  BOOST_TEST(indices(*received[1].batch) == range(2, 3));
  BOOST_TEST(indices(*received[2].batch) == range(0, 2));
  for (const auto& h : received) {
    BOOST_TEST(h.endpoint == 0u);
    BOOST_TEST(h.batch->group == group);
  }
  received.clear();

  // endpoint_config 1 still takes full batches.
  park(1);
  enqueue(8, 8);
  poll();
  auto full = take_single();
  BOOST_TEST(indices(*full) == range(8, 8));

  // A retried batch taken by endpoint 0 is split too, and both parts keep its history.
  sched->exchange_done(1, outcome(pd::exchange_result::ok), now);
  full->budget = {.sent = 2, .unsent = 1};
  const auto deadline = full->deadline;
  sched->resend(std::move(full), now);
  park(0, 3);
  poll();
  BOOST_TEST_REQUIRE(received.size() == 3u);
  std::vector<std::size_t> all;
  for (const auto& h : received) {
    BOOST_TEST(h.batch->items.size() <= 3u);
    BOOST_TEST(h.batch->budget.sent == 2);
    BOOST_TEST(h.batch->budget.unsent == 1);
    BOOST_TEST((h.batch->deadline == deadline));
    for (auto i : indices(*h.batch)) all.push_back(i);
  }
  std::sort(all.begin(), all.end());  // dealt from the back: every prompt once, in some order
  BOOST_TEST(all == range(8, 8));
}

BOOST_FIXTURE_TEST_CASE(batch_limit_only_goes_down_and_never_below_one, scheduler_fixture) {
  start(config(8));
  sched->too_large(0, 4, t0);
  sched->too_large(0, 10, t0);  // no effect: limits only drop
  sched->too_large(0, 1, t0);   // one prompt refused: about its length, not the count
  sched->too_large(0, 2, t0);   // clamped to one prompt
  park(0, 8);
  enqueue(8);
  poll();
  BOOST_TEST(received.size() == 8u);
  for (const auto& h : received) BOOST_TEST(h.batch->items.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(max_requests_per_s_spaces_out_the_batches, scheduler_fixture) {
  auto c = config(1, 0us);
  c.endpoints.max_requests_per_s = 2;
  start(c);
  park(0, 5);
  enqueue(5);  // five batches of one prompt, five idle connections
  poll();
  BOOST_TEST(received.size() == 2u);  // the bucket starts with one second's worth
  tick();
  poll();
  BOOST_TEST(received.size() == 2u);  // and refills only as time passes
  now = t0 + 500ms;
  tick();
  poll();
  BOOST_TEST(received.size() == 3u);
  tick();
  poll();
  BOOST_TEST(received.size() == 3u);  // one request per 500 ms
  now = t0 + 1s;
  tick();
  poll();
  BOOST_TEST(received.size() == 4u);
  now = t0 + 1500ms;
  tick();
  poll();
  BOOST_TEST_REQUIRE(received.size() == 5u);
  for (std::size_t i = 0; i < received.size(); ++i) {
    BOOST_TEST(indices(*received[i].batch) == range(i, 1));
  }
}

// A batch that was not sent after all (its callers cancelled) gives its request back at once.
BOOST_FIXTURE_TEST_CASE(tokens_given_back_let_a_waiting_batch_go_at_once, scheduler_fixture) {
  auto c = config(1, 0us);
  c.endpoints.max_requests_per_s = 2;
  start(c);
  park(0, 4);
  enqueue(4);
  poll();
  BOOST_TEST_REQUIRE(received.size() == 2u);  // the bucket's second's worth
  sched->exchange_skipped(0, 1, now);         // no time has passed: no timer would fire
  poll();
  BOOST_TEST(received.size() == 3u);
}

BOOST_FIXTURE_TEST_CASE(rate_limits_report_the_paused_time_and_the_answers, scheduler_fixture) {
  start(config(1, 0us), {1.0, 1.0});
  park(0, 3);
  enqueue(3);
  poll();
  BOOST_TEST_REQUIRE(handed_to(0) == 3u);
  sched->exchange_done(0, outcome(pd::exchange_result::http_status, 429), now);
  sched->exchange_done(0,
                       {.result = pd::exchange_result::http_status,
                        .status = 503,
                        .retry_after = std::chrono::milliseconds(1000)},
                       now);
  sched->exchange_done(0, outcome(pd::exchange_result::http_status, 500), now);  // no rate limit

  sched->pause_endpoint(0, now + 2s, now);
  sched->pause_endpoint(0, now + 1s, now);     // within the first: counted once
  sched->pause_endpoint(1, now + 500ms, now);  // another endpoint's pause counts on its own
  now += 1s;
  sched->pause_endpoint(0, now + 2s, now);  // until t0 + 3 s: adds the second past t0 + 2 s
  const auto [paused, answers] = sched->rate_limits();
  BOOST_TEST(ms(paused) == 3500);
  BOOST_TEST(answers == 2u);

  // The pause holds: endpoint 0 gets nothing before t0 + 3 s.
  park(0);
  enqueue(1, 3);
  poll();
  BOOST_TEST(received.size() == 3u);
  now = t0 + 3s - 1us;
  tick();
  poll();
  BOOST_TEST(received.size() == 3u);
  now = t0 + 3s;
  tick();
  poll();
  BOOST_TEST_REQUIRE(received.size() == 4u);
  BOOST_TEST(received[3].endpoint == 0u);
  BOOST_TEST(indices(*received[3].batch) == range(3, 1));
}

// --- retries and deadlines ---

BOOST_FIXTURE_TEST_CASE(retry_later_waits_its_delay, scheduler_fixture) {
  constexpr auto delay = 50ms;
  start(config(64, 0us));
  park();
  enqueue(1);
  poll();
  auto b = take_single();
  const pd::batch* const sent = b.get();
  park();
  const time_point due = now + delay;
  sched->retry_later(std::move(b), due, now);
  poll();
  BOOST_TEST(received.empty());
  now = due - 1us;
  tick();
  poll();
  BOOST_TEST(received.empty());
  now = due;
  tick();
  poll();
  BOOST_TEST_REQUIRE(received.size() == 1u);
  BOOST_TEST(received[0].batch.get() == sent);
  BOOST_TEST((received[0].batch->not_before == due));
}

BOOST_FIXTURE_TEST_CASE(a_backing_off_batch_does_not_hold_up_new_work, scheduler_fixture) {
  start(config(1, 0us));
  park();
  enqueue(1);
  poll();
  sched->retry_later(take_single(), now + 1h, now);
  park();
  enqueue(1, 1);
  poll();
  BOOST_TEST_REQUIRE(received.size() == 1u);
  BOOST_TEST(indices(*received[0].batch) == range(1, 1));
}

BOOST_FIXTURE_TEST_CASE(resend_goes_ahead_of_new_work, scheduler_fixture) {
  start(config(1, 0us));
  park();
  enqueue(1);
  poll();
  auto b = take_single();
  enqueue(2, 1);  // no idle connection: queued
  sched->resend(std::move(b), now);
  park();
  poll();
  BOOST_TEST_REQUIRE(received.size() == 1u);
  BOOST_TEST(indices(*received[0].batch) == range(0, 1));
  park(0, 2);
  poll();
  BOOST_TEST_REQUIRE(received.size() == 3u);
  BOOST_TEST(indices(*received[1].batch) == range(1, 1));
  BOOST_TEST(indices(*received[2].batch) == range(2, 1));
}

BOOST_FIXTURE_TEST_CASE(a_due_retry_goes_ahead_of_new_work, scheduler_fixture) {
  start(config(1, 0us));
  park();
  enqueue(1);
  poll();
  sched->retry_later(take_single(), now + 20ms, now);
  enqueue(2, 1);  // no idle connection: queued
  now += 20ms;
  park();
  poll();
  BOOST_TEST_REQUIRE(received.size() == 1u);
  BOOST_TEST(indices(*received[0].batch) == range(0, 1));
}

BOOST_FIXTURE_TEST_CASE(a_batch_past_its_total_timeout_fails_with_timeout, scheduler_fixture) {
  auto c = config(64, 0us);
  c.total_timeout = 1s;
  start(c);
  const group_ptr later = make_group("custom/later");
  enqueue(2);  // due by t0 + 1 s
  now += 500ms;
  enqueue(1, 2, later);  // due by t0 + 1.5 s
  now = t0 + 1s;
  park(0, 2);
  poll();
  // The first batch is out of time when a connection comes; the second is not.
  BOOST_TEST_REQUIRE(failures.size() == 1u);
  BOOST_TEST(failures[0].type == errc::timeout);
  BOOST_TEST(indices(*failures[0].batch) == range(0, 2));
  BOOST_TEST_REQUIRE(received.size() == 1u);
  BOOST_TEST(indices(*received[0].batch) == range(2, 1));
}

// --- admission ---

BOOST_FIXTURE_TEST_CASE(a_blocked_acquire_gets_in_once_room_is_released, scheduler_fixture) {
  auto c = config(64);
  c.max_pending = 2;
  start(c);
  BOOST_TEST(sched->acquire(2));
  BOOST_TEST(sched->pending() == 2u);
  // Boost.Test is not thread-safe: the waiter only records its answer. Whether it blocks before
  // the release or comes after it, it gets in.
  std::atomic<int> answer = -1;
  std::thread waiter([&] { answer = sched->acquire(1) ? 1 : 0; });
  sched->release(1, now);
  waiter.join();
  BOOST_TEST(answer.load() == 1);
  BOOST_TEST(sched->pending() == 2u);
}

BOOST_FIXTURE_TEST_CASE(a_blocked_acquire_returns_false_at_close, scheduler_fixture) {
  auto c = config(64);
  c.max_pending = 2;
  start(c);
  BOOST_TEST(sched->acquire(2));
  std::atomic<int> answer = -1;
  std::thread waiter([&] { answer = sched->acquire(1) ? 1 : 0; });
  sched->close(false, now);
  waiter.join();
  BOOST_TEST(answer.load() == 0);
  BOOST_TEST(sched->pending() == 2u);
}

BOOST_FIXTURE_TEST_CASE(a_request_larger_than_the_window_is_let_in_alone, scheduler_fixture) {
  auto c = config(64);
  c.max_pending = 2;
  start(c);
  BOOST_TEST(sched->acquire(5));
  BOOST_TEST(sched->pending() == 5u);
  sched->release(5, now);
  BOOST_TEST(sched->pending() == 0u);
}

BOOST_FIXTURE_TEST_CASE(acquire_async_admits_in_fifo_order, scheduler_fixture) {
  auto c = config(64);
  c.max_pending = 2;
  start(c);
  std::vector<std::string> order;
  auto note = [&](std::string name) {
    return [&order, name](bool admitted) { order.push_back(name + (admitted ? "+" : "-")); };
  };
  sched->acquire_async(1, note("first"));  // room: admitted at once
  BOOST_TEST(order == (std::vector<std::string>{"first+"}));
  sched->acquire_async(1, note("second"));
  BOOST_TEST(order.size() == 2u);
  sched->acquire_async(2, note("big"));
  sched->acquire_async(1, note("small"));
  sched->release(1, now);
  // Room for one: "small" would fit, but it does not overtake "big".
  BOOST_TEST(order.size() == 2u);
  sched->release(1, now);
  BOOST_TEST(order == (std::vector<std::string>{"first+", "second+", "big+"}));
  BOOST_TEST(sched->pending() == 2u);
  sched->release(1, now);
  BOOST_TEST(order == (std::vector<std::string>{"first+", "second+", "big+", "small+"}));
  BOOST_TEST(sched->pending() == 2u);

  // Waiting admissions are refused at close, and so is everything after it.
  sched->acquire_async(2, note("late"));
  sched->close(false, now);
  sched->acquire_async(1, note("closed"));
  BOOST_TEST(order ==
             (std::vector<std::string>{"first+", "second+", "big+", "small+", "late-", "closed-"}));
  BOOST_TEST(!sched->acquire(1));
}

// --- shutdown ---

BOOST_FIXTURE_TEST_CASE(close_with_cancel_fails_every_queued_batch, scheduler_fixture) {
  start(config(2, 1h));
  BOOST_TEST(sched->acquire(5));
  park();
  enqueue(5);
  poll();
  auto first = take_single();  // prompts 0 and 1
  sched->retry_later(std::move(first), now + 1h, now);
  // Queued now: a backing-off batch, a full one waiting for a connection and a partial one.
  sched->close(true, now);
  BOOST_TEST_REQUIRE(failures.size() == 3u);
  for (const auto& f : failures) BOOST_TEST(f.type == errc::cancelled);
  BOOST_TEST(failed_indices() == range(0, 5));

  // Nothing is left to hand out; the connection is told to end once the prompts are released.
  park();
  poll();
  BOOST_TEST(received.empty());
  sched->release(5, now);
  poll();
  BOOST_TEST_REQUIRE(received.size() == 1u);
  BOOST_TEST(received[0].batch == nullptr);
}

BOOST_FIXTURE_TEST_CASE(close_without_cancel_drains_queued_work, scheduler_fixture) {
  constexpr auto delay = 20ms;
  start(config(64, delay));
  BOOST_TEST(sched->acquire(2));
  enqueue(2);
  sched->close(false, now);
  BOOST_TEST(sched->closed());
  BOOST_TEST(failures.empty());
  park();
  poll();
  BOOST_TEST(received.empty());  // the partial batch still waits out its delay
  now += delay;
  tick();
  poll();
  BOOST_TEST_REQUIRE(received.size() == 1u);
  BOOST_TEST(indices(*received[0].batch) == range(0, 2));
  sched->release(2, now);
  park();
  poll();
  BOOST_TEST_REQUIRE(received.size() == 2u);
  BOOST_TEST(received[1].batch == nullptr);
}

BOOST_FIXTURE_TEST_CASE(after_close_with_nothing_pending_connections_end, scheduler_fixture) {
  start(config(64), {1.0, 2.0});
  park(0, 2);
  park(1);
  poll();
  BOOST_TEST(received.empty());
  sched->close(false, now);
  poll();
  BOOST_TEST_REQUIRE(received.size() == 3u);
  for (const auto& h : received) BOOST_TEST(h.batch == nullptr);
  park(1);  // a connection that asks later ends too
  poll();
  BOOST_TEST_REQUIRE(received.size() == 4u);
  BOOST_TEST(received[3].batch == nullptr);
  sched->wait_idle();  // returns: nothing pending
}

BOOST_AUTO_TEST_SUITE_END()
