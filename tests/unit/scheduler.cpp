// Tests for the scheduler: batch limits, max_delay, groups, endpoint choice, retries, admission,
// close.
#include "batching/scheduler.hpp"

#include <boost/test/unit_test.hpp>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
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

struct null_sink final : promptpack::BulkSink {
  void on_results(std::span<const promptpack::BulkResult>) override {}
  void on_complete() override {}
};

group_ptr make_group(std::string model = "custom/m") {
  return std::make_shared<const pd::request_group>(std::move(model), promptpack::SamplingParams{});
}

// A config whose partial batches never leave on their own (unless a test says otherwise).
pd::scheduler_config config(std::size_t max_prompts, std::chrono::microseconds max_delay = 1h) {
  pd::scheduler_config c;
  c.max_batch_prompts = max_prompts;
  c.max_delay = max_delay;
  return c;
}

std::chrono::steady_clock::time_point now() {
  return std::chrono::steady_clock::now();
}

// Whole milliseconds since `start`, rounded down.
long long ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

struct handed_out {
  std::size_t endpoint;
  pd::batch_ptr batch;  // nullptr: the connection is told to end
};

struct failed {
  pd::batch_ptr batch;
  errc type;
};

struct scheduler_fixture {
  boost::asio::io_context io;  // outlives the scheduler and its timer
  null_sink sink;
  pd::submission owner{sink, 0};
  const std::string text = std::string(4096, 'x');
  group_ptr group = make_group();
  std::vector<handed_out> received;
  std::vector<failed> failures;
  std::unique_ptr<pd::scheduler> sched;

  void start(pd::scheduler_config c, std::vector<double> weights = {1.0}) {
    sched = std::make_unique<pd::scheduler>(
        io.get_executor(), c, std::move(weights),
        [this](pd::batch_ptr b, const pd::exchange_outcome&, errc type) {
          failures.push_back({std::move(b), type});
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
    sched->enqueue(g ? g : group, items(count, first), now());
  }

  // One idle connection of `endpoint` asks for its next batch.
  void park(std::size_t endpoint = 0, std::size_t times = 1) {
    for (std::size_t i = 0; i < times; ++i) {
      sched->async_next_batch(endpoint, [this, endpoint](pd::batch_ptr b) {
        received.push_back({endpoint, std::move(b)});
      });
    }
  }

  // Runs the handlers that are ready now (a bounded number, so that a timer that keeps firing
  // fails the test instead of hanging it).
  std::size_t poll() {
    io.restart();
    std::size_t ran = 0;
    while (ran < 10000 && io.poll_one() != 0) ++ran;
    return ran;
  }

  // Runs the io_context until `done` holds; fails the test after a generous limit.
  void run_until(const std::function<bool()>& done) {
    const auto limit = std::chrono::steady_clock::now() + 10s;
    while (!done() && std::chrono::steady_clock::now() < limit) {
      io.restart();
      io.run_one_for(10ms);
    }
    BOOST_TEST_REQUIRE(done());
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

  static pd::exchange_outcome outcome(pd::exchange_result result, int status = 0) {
    return {.result = result, .status = status, .retry_after = std::nullopt, .detail = ""};
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(scheduler)

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
  sched->enqueue(group, items(5, 0, length), now());
  poll();
  BOOST_TEST_REQUIRE(received.size() == 2u);
  for (const auto& h : received) {
    BOOST_TEST(h.batch->items.size() == 2u);
    BOOST_TEST(h.batch->bytes <= c.max_batch_bytes);
  }
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
  sched->enqueue(group, work, now());
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
  const auto start_time = std::chrono::steady_clock::now();
  enqueue(1);
  poll();
  BOOST_TEST(received.empty());
  enqueue(1, 1);
  run_until([&] { return !received.empty(); });
  BOOST_TEST(ms_since(start_time) >= delay.count());
  BOOST_TEST(indices(*received[0].batch) == range(0, 2));
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
  std::this_thread::sleep_for(delay + 10ms);
  poll();
  park();
  poll();
  BOOST_TEST_REQUIRE(received.size() == 1u);
  BOOST_TEST(indices(*received[0].batch) == range(0, 1));
}

BOOST_FIXTURE_TEST_CASE(nothing_runs_while_no_connection_is_idle, scheduler_fixture) {
  // Work that is due but has nowhere to go must not keep the timer firing: the next connection
  // to park picks it up.
  start(config(64, 0us));
  enqueue(1);
  std::size_t handlers = 0;
  const auto until = std::chrono::steady_clock::now() + 50ms;
  while (std::chrono::steady_clock::now() < until) handlers += poll();
  BOOST_TEST(handlers <= 2u);
  park();
  poll();
  BOOST_TEST(received.size() == 1u);
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
  for (int i = 0; i < 6; ++i) sched->exchange_done(1, outcome(pd::exchange_result::ok), now());
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
  auto first = take_single();
  BOOST_TEST(received.empty());
  sched->exchange_done(0, outcome(pd::exchange_result::connect_failed),
                       now());  // cools down at once

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
}

BOOST_FIXTURE_TEST_CASE(a_cooling_endpoint_still_gets_work_when_it_is_the_only_one,
                        scheduler_fixture) {
  start(config(64, 0us), {1.0});
  park(0);
  enqueue(1);
  poll();
  take_single();
  sched->exchange_done(0, outcome(pd::exchange_result::connect_failed), now());
  park(0);
  enqueue(1, 1);
  poll();
  BOOST_TEST_REQUIRE(received.size() == 1u);
  BOOST_TEST(indices(*received[0].batch) == range(1, 1));
}

BOOST_FIXTURE_TEST_CASE(a_lowered_batch_limit_splits_batches_of_that_endpoint_only,
                        scheduler_fixture) {
  start(config(8), {1.0, 1.0});
  sched->lower_batch_limit(0, 3);
  park(0, 3);
  enqueue(8);
  poll();
  BOOST_TEST_REQUIRE(received.size() == 3u);
  BOOST_TEST(indices(*received[0].batch) == range(0, 3));
  BOOST_TEST(indices(*received[1].batch) == range(3, 3));
  BOOST_TEST(indices(*received[2].batch) == range(6, 2));
  for (const auto& h : received) {
    BOOST_TEST(h.endpoint == 0u);
    BOOST_TEST(h.batch->group == group);
  }
  received.clear();

  // Endpoint 1 still takes full batches.
  park(1);
  enqueue(8, 8);
  poll();
  auto full = take_single();
  BOOST_TEST(indices(*full) == range(8, 8));

  // A retried batch taken by endpoint 0 is split too, and both parts keep its history.
  sched->exchange_done(1, outcome(pd::exchange_result::ok), now());
  full->budget = {.sent = 2, .unsent = 1};
  const auto deadline = full->deadline;
  sched->resend(std::move(full), now());
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
  BOOST_TEST(all == range(8, 8));
}

BOOST_FIXTURE_TEST_CASE(batch_limit_only_goes_down_and_never_below_one, scheduler_fixture) {
  start(config(8));
  sched->lower_batch_limit(0, 2);
  sched->lower_batch_limit(0, 5);  // no effect: limits only drop
  sched->lower_batch_limit(0, 0);  // clamped to one prompt
  park(0, 8);
  enqueue(8);
  poll();
  BOOST_TEST(received.size() == 8u);
  for (const auto& h : received) BOOST_TEST(h.batch->items.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(retry_later_waits_its_delay, scheduler_fixture) {
  constexpr auto delay = 50ms;
  start(config(64, 0us));
  park();
  enqueue(1);
  poll();
  auto b = take_single();
  const pd::batch* const sent = b.get();
  park();
  const auto start_time = std::chrono::steady_clock::now();
  sched->retry_later(std::move(b), now() + delay, now());
  poll();
  BOOST_TEST(received.empty());
  run_until([&] { return !received.empty(); });
  BOOST_TEST(ms_since(start_time) >= delay.count());
  BOOST_TEST(received[0].batch.get() == sent);
}

BOOST_FIXTURE_TEST_CASE(a_backing_off_batch_does_not_hold_up_new_work, scheduler_fixture) {
  start(config(1, 0us));
  park();
  enqueue(1);
  poll();
  sched->retry_later(take_single(), now() + 1h, now());
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
  sched->resend(std::move(b), now());
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
  constexpr auto delay = 20ms;
  start(config(1, 0us));
  park();
  enqueue(1);
  poll();
  sched->retry_later(take_single(), now() + delay, now());
  enqueue(2, 1);  // no idle connection: queued
  std::this_thread::sleep_for(delay + 10ms);
  park();
  poll();
  BOOST_TEST_REQUIRE(received.size() == 1u);
  BOOST_TEST(indices(*received[0].batch) == range(0, 1));
}

BOOST_FIXTURE_TEST_CASE(a_batch_past_its_total_timeout_fails_with_timeout, scheduler_fixture) {
  auto c = config(64, 0us);
  c.total_timeout = 1ms;
  start(c);
  enqueue(2);
  std::this_thread::sleep_for(5ms);
  park();
  poll();
  BOOST_TEST(received.empty());
  BOOST_TEST_REQUIRE(failures.size() == 1u);
  BOOST_TEST(failures[0].type == errc::timeout);
  BOOST_TEST(indices(*failures[0].batch) == range(0, 2));
}

BOOST_FIXTURE_TEST_CASE(acquire_blocks_until_release, scheduler_fixture) {
  auto c = config(64);
  c.max_pending = 2;
  start(c);
  BOOST_TEST(sched->acquire(2));
  BOOST_TEST(sched->pending() == 2u);
  // Boost.Test is not thread-safe: the waiter only sets flags, the test thread checks them.
  std::atomic<bool> admitted = false;
  std::atomic<bool> result = false;
  std::thread waiter([&] {
    result = sched->acquire(1);
    admitted = true;
  });
  std::this_thread::sleep_for(20ms);
  BOOST_TEST(!admitted.load());  // no room yet
  sched->release(1, now());
  waiter.join();
  BOOST_TEST(admitted.load());
  BOOST_TEST(result.load());
  BOOST_TEST(sched->pending() == 2u);
}

BOOST_FIXTURE_TEST_CASE(a_request_larger_than_the_window_is_let_in_alone, scheduler_fixture) {
  auto c = config(64);
  c.max_pending = 2;
  start(c);
  BOOST_TEST(sched->acquire(5));
  BOOST_TEST(sched->pending() == 5u);
  sched->release(5, now());
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
  sched->release(1, now());
  // Room for one: "small" would fit, but it does not overtake "big".
  BOOST_TEST(order.size() == 2u);
  sched->release(1, now());
  BOOST_TEST(order == (std::vector<std::string>{"first+", "second+", "big+"}));
  BOOST_TEST(sched->pending() == 2u);
  sched->release(1, now());
  BOOST_TEST(order == (std::vector<std::string>{"first+", "second+", "big+", "small+"}));
  BOOST_TEST(sched->pending() == 2u);

  // Waiting admissions are refused at close, and so is everything after it.
  sched->acquire_async(2, note("late"));
  sched->close(false, now());
  sched->acquire_async(1, note("closed"));
  BOOST_TEST(order ==
             (std::vector<std::string>{"first+", "second+", "big+", "small+", "late-", "closed-"}));
  BOOST_TEST(!sched->acquire(1));
}

BOOST_FIXTURE_TEST_CASE(close_with_cancel_fails_every_queued_batch, scheduler_fixture) {
  start(config(2, 1h));
  BOOST_TEST(sched->acquire(5));
  park();
  enqueue(5);
  poll();
  auto first = take_single();  // prompts 0 and 1
  sched->retry_later(std::move(first), now() + 1h, now());
  // Queued now: a backing-off batch, a full one waiting for a connection and a partial one.
  sched->close(true, now());
  BOOST_TEST_REQUIRE(failures.size() == 3u);
  std::vector<std::size_t> all;
  for (const auto& f : failures) {
    BOOST_TEST(f.type == errc::cancelled);
    for (auto i : indices(*f.batch)) all.push_back(i);
  }
  std::ranges::sort(all);
  BOOST_TEST(all == range(0, 5));

  // Nothing is left to hand out; the connection is told to end once the prompts are released.
  park();
  poll();
  BOOST_TEST(received.empty());
  sched->release(5, now());
  poll();
  BOOST_TEST_REQUIRE(received.size() == 1u);
  BOOST_TEST(received[0].batch == nullptr);
}

BOOST_FIXTURE_TEST_CASE(close_without_cancel_drains_queued_work, scheduler_fixture) {
  start(config(64, 20ms));
  BOOST_TEST(sched->acquire(2));
  enqueue(2);
  sched->close(false, now());
  BOOST_TEST(sched->closed());
  BOOST_TEST(failures.empty());
  park();
  run_until([&] { return !received.empty(); });
  BOOST_TEST_REQUIRE(received.size() == 1u);
  BOOST_TEST(indices(*received[0].batch) == range(0, 2));
  sched->release(2, now());
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
  sched->close(false, now());
  poll();
  BOOST_TEST_REQUIRE(received.size() == 3u);
  for (const auto& h : received) BOOST_TEST(h.batch == nullptr);
  park(1);  // a connection that asks later ends too
  poll();
  BOOST_TEST_REQUIRE(received.size() == 4u);
  BOOST_TEST(received[3].batch == nullptr);
  sched->wait_idle();  // returns: nothing pending
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

BOOST_AUTO_TEST_SUITE_END()
