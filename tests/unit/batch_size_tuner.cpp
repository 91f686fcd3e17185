// Tests for the batch size tuner on synthetic time, scripted and against simulated endpoints.
#include "batching/batch_size_tuner.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "common/contains.hpp"

namespace {

using namespace std::chrono_literals;
namespace pd = promptpack::detail;
using time_point = pd::batch_size_tuner::clock::time_point;
using promptpack::test::contains;
using std::chrono::nanoseconds;

const time_point t0 = time_point{} + std::chrono::hours(1);

constexpr std::size_t connections = 8;
constexpr std::size_t largest_size = 4096;  // the tuner's default max_size

// Feeds the tuner one window at its current size: eight exchanges of `latency` (at most 200 ms,
// so that they were all sent after the window opened), 200 ms after the previous window.
void feed_window(pd::batch_size_tuner& tuner, time_point& now, nanoseconds latency) {
  now += 200ms;
  for (int i = 0; i < 8; ++i) tuner.on_exchange(now, tuner.size(), latency);
}

// serve's latency model: a batch costs a fixed time plus a cost per prompt, and, for a server
// whose per-prompt cost grows with the batch (padding, memory), a cost per prompt squared. Above
// max_batch prompts it answers 413 after the fixed time.
struct endpoint_model {
  nanoseconds base = 50ms;
  double per_prompt_us = 20;
  double per_prompt_squared_us = 0;
  std::size_t max_batch = 0;  // 0: no 413

  nanoseconds latency(std::size_t batch) const {
    const double prompts = static_cast<double>(batch);
    const double extra_us = per_prompt_us * prompts + per_prompt_squared_us * prompts * prompts;
    return base + nanoseconds(std::llround(extra_us * 1000));
  }

  // What a fixed size achieves in a closed loop, where every connection always has a batch out.
  double prompts_per_s(std::size_t batch) const {
    return static_cast<double>(connections * batch) /
           std::chrono::duration<double>(latency(batch)).count();
  }
};

struct fixed_size {
  std::size_t size = 0;
  double prompts_per_s = 0;
};

// The best fixed size, found by trying every size the endpoint accepts (within `max_latency`
// when one is given).
fixed_size best_fixed_size(const endpoint_model& model,
                           nanoseconds max_latency = nanoseconds::zero()) {
  fixed_size best;
  const std::size_t largest =
      model.max_batch != 0 ? std::min(model.max_batch, largest_size) : largest_size;
  for (std::size_t size = 1; size <= largest; ++size) {
    if (max_latency > nanoseconds::zero() && model.latency(size) > max_latency) continue;
    const double rate = model.prompts_per_s(size);
    if (rate > best.prompts_per_s) best = {size, rate};
  }
  return best;
}

// One connection's exchange, as sent.
struct exchange {
  time_point ends;
  std::size_t prompts = 0;
  nanoseconds latency{};
  bool refused = false;  // the endpoint answers 413
};

// Connections against one endpoint in a closed loop (bench's default arrivals): each sends a
// batch of the tuner's size the moment its previous exchange ends, and the tuner hears of every
// exchange as it ends. A minute of synthetic time runs in milliseconds.
struct closed_loop {
  endpoint_model model;  // tests change it mid-run to slow the endpoint down
  pd::tuner_config config;
  pd::batch_size_tuner tuner;
  time_point now = t0;
  std::vector<exchange> in_flight;
  std::vector<std::string> reasons;  // every reason the tuner gave, in order, repeats dropped
  std::size_t answered = 0;          // prompts answered since the last measure()
  std::size_t over_max_latency = 0;  // exchanges slower than config.max_latency, likewise
  std::size_t smallest_refused = std::numeric_limits<std::size_t>::max();
  std::size_t proposals_out_of_bounds = 0;  // sizes of 0, above max_size, or at or above a 413

  closed_loop(const endpoint_model& endpoint, pd::tuner_config tuning)
      : model(endpoint),
        config(with_connections(tuning)),
        tuner(config, t0),
        reasons{tuner.reason()} {
    for (std::size_t i = 0; i < connections; ++i) in_flight.push_back(send());
  }

  static pd::tuner_config with_connections(pd::tuner_config tuning) {
    tuning.connections = connections;
    return tuning;
  }

  exchange send() {
    const std::size_t size = tuner.size();
    if (size == 0 || size > config.max_size || size >= smallest_refused) ++proposals_out_of_bounds;
    const bool refused = model.max_batch != 0 && size > model.max_batch;
    const nanoseconds latency = refused ? model.base : model.latency(size);
    return {.ends = now + latency, .prompts = size, .latency = latency, .refused = refused};
  }

  void run_for(nanoseconds span) {
    const time_point end = now + span;
    for (;;) {
      const auto next = std::ranges::min_element(in_flight, {}, &exchange::ends);
      if (next->ends > end) break;
      now = next->ends;
      if (next->refused) {
        smallest_refused = std::min(smallest_refused, next->prompts);
        tuner.on_too_large(now, next->prompts);
      } else {
        answered += next->prompts;
        if (config.max_latency > nanoseconds::zero() && next->latency > config.max_latency) {
          ++over_max_latency;
        }
        tuner.on_exchange(now, next->prompts, next->latency);
      }
      if (tuner.reason() != reasons.back()) reasons.push_back(tuner.reason());
      *next = send();
    }
    now = end;
  }

  // Runs for `span` and returns the prompts answered per second in it.
  double measure(nanoseconds span) {
    answered = 0;
    over_max_latency = 0;
    run_for(span);
    return static_cast<double>(answered) / std::chrono::duration<double>(span).count();
  }

  bool said(const std::string& part) const {
    return std::ranges::any_of(reasons, [&](const std::string& r) { return contains(r, part); });
  }

  std::string size_text() const { return std::to_string(tuner.size()); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(batch_size_tuner)

// --- the mechanics, scripted ---

BOOST_AUTO_TEST_CASE(starts_at_the_smallest_size_and_says_so) {
  const pd::batch_size_tuner tuner(pd::tuner_config{}, t0);
  BOOST_TEST(tuner.size() == 16u);
  BOOST_TEST((tuner.phase() == pd::tuner_phase::probing));
  BOOST_TEST(!tuner.settled());
  BOOST_TEST(tuner.reason() == "probing 16: measuring");
}

BOOST_AUTO_TEST_CASE(a_window_needs_enough_exchanges_and_enough_time) {
  pd::batch_size_tuner tuner(pd::tuner_config{}, t0);  // 8 exchanges and 200 ms
  for (int i = 1; i <= 7; ++i) tuner.on_exchange(t0 + i * 100ms, 16, 10ms);
  BOOST_TEST(tuner.size() == 16u);  // 700 ms, but seven exchanges
  tuner.on_exchange(t0 + 800ms, 16, 10ms);
  // 128 prompts in 80 ms of exchanges on one connection: the first rate, so the size doubles.
  BOOST_TEST(tuner.size() == 32u);
  BOOST_TEST(tuner.reason() == "probing 32: 1600 prompts/s so far");

  const time_point changed = t0 + 800ms;
  for (int i = 0; i < 8; ++i) tuner.on_exchange(changed + 50ms, 32, 10ms);
  BOOST_TEST(tuner.size() == 32u);  // eight exchanges, but 50 ms
  tuner.on_exchange(changed + 200ms, 32, 10ms);
  BOOST_TEST(tuner.size() == 64u);  // 3200 prompts/s beat 1600
}

BOOST_AUTO_TEST_CASE(exchanges_sent_before_the_size_changed_are_not_counted) {
  pd::batch_size_tuner tuner(pd::tuner_config{}, t0);
  const time_point changed = t0 + 300ms;
  for (int i = 0; i < 8; ++i) tuner.on_exchange(changed, 16, 10ms);
  BOOST_TEST_REQUIRE(tuner.size() == 32u);
  // Slow batches of 16 sent before the change end after it: they say nothing about 32.
  for (int i = 0; i < 20; ++i) tuner.on_exchange(changed + 250ms, 16, 260ms);
  BOOST_TEST(tuner.size() == 32u);
  BOOST_TEST(tuner.reason() == "probing 32: 1600 prompts/s so far");
}

BOOST_AUTO_TEST_CASE(a_413_brackets_the_search_below_the_refused_size) {
  pd::batch_size_tuner tuner(pd::tuner_config{}, t0);
  time_point now = t0;
  // Every exchange takes 10 ms whatever its size: each larger size pays.
  feed_window(tuner, now, 10ms);
  feed_window(tuner, now, 10ms);
  BOOST_TEST_REQUIRE(tuner.size() == 64u);

  tuner.on_too_large(now, 64);
  BOOST_TEST(tuner.size() == 48u);  // between 32, the best measured, and 64
  tuner.on_too_large(now, 48);
  BOOST_TEST(tuner.size() == 40u);
  feed_window(tuner, now, 10ms);
  BOOST_TEST(tuner.size() == 44u);
  feed_window(tuner, now, 10ms);
  BOOST_TEST(tuner.size() == 46u);
  feed_window(tuner, now, 10ms);
  // 46 is within a sixteenth of 48: nothing left worth trying.
  BOOST_TEST(tuner.size() == 46u);
  BOOST_TEST(tuner.settled());
  BOOST_TEST(tuner.reason() == "capped at 46: the endpoint answered 413 at 48");

  // A late 413 of a batch sent at 64 changes nothing, and neither do later windows.
  tuner.on_too_large(now, 64);
  for (int i = 0; i < 100; ++i) feed_window(tuner, now, 10ms);
  BOOST_TEST(tuner.size() == 46u);
  BOOST_TEST(tuner.reason() == "capped at 46: the endpoint answered 413 at 48");
}

BOOST_AUTO_TEST_CASE(a_413_at_the_first_size_halves_it) {
  pd::batch_size_tuner tuner(pd::tuner_config{}, t0);
  tuner.on_too_large(t0, 16);
  BOOST_TEST(tuner.size() == 8u);
  BOOST_TEST((tuner.phase() == pd::tuner_phase::backing_off));
  BOOST_TEST(tuner.reason() == "backing off to 8: the endpoint answered 413 at 16");
  time_point now = t0;
  feed_window(tuner, now, 10ms);
  BOOST_TEST(tuner.size() == 15u);  // doubling stops below the refused size
  BOOST_TEST(tuner.reason() == "probing 15: 800 prompts/s so far");
}

BOOST_AUTO_TEST_CASE(one_long_prompt_bisected_down_leaves_the_size_above_one) {
  pd::batch_size_tuner tuner(pd::tuner_config{.min_size = 256}, t0);
  time_point now = t0;
  tuner.on_too_large(now, 256);
  BOOST_TEST(tuner.size() == 128u);
  // The halves: one answered, one refused, down to the long prompt alone.
  for (std::size_t half = 128; half >= 1; half /= 2) {
    now += 10ms;
    tuner.on_exchange(now, half, 5ms);
    tuner.on_too_large(now, half);
  }
  BOOST_TEST(tuner.size() == 128u);
  BOOST_TEST(tuner.reason() == "backing off to 128: the endpoint answered 413 at 256");
}

BOOST_AUTO_TEST_CASE(a_batch_that_times_out_halves_the_size_and_caps_the_search) {
  pd::batch_size_tuner tuner(pd::tuner_config{}, t0);
  time_point now = t0;
  feed_window(tuner, now, 10ms);
  feed_window(tuner, now, 10ms);
  BOOST_TEST(tuner.size() == 64u);
  now += 30s;
  tuner.on_timeout(now, 32, 30s);  // a batch of the previous size: ignored
  BOOST_TEST(tuner.size() == 64u);
  tuner.on_timeout(now, 64, 30s);
  BOOST_TEST(tuner.size() == 32u);
  BOOST_TEST((tuner.phase() == pd::tuner_phase::backing_off));
  BOOST_TEST(tuner.reason() == "backing off to 32: a batch of 64 got no answer within 30000 ms");
  // The search grows again, but stays below the size that timed out.
  for (int i = 0; i < 6; ++i) feed_window(tuner, now, 10ms);
  BOOST_TEST(tuner.size() <= 63u);
  BOOST_TEST(tuner.settled());
  BOOST_TEST(contains(tuner.reason(), "a batch of 64 got no answer within 30000 ms"));
}

BOOST_AUTO_TEST_CASE(over_max_latency_even_at_the_smallest_size_it_stays_there) {
  pd::batch_size_tuner tuner(pd::tuner_config{.max_latency = 100ms}, t0);
  time_point now = t0;
  feed_window(tuner, now, 150ms);
  BOOST_TEST(tuner.size() == 16u);
  BOOST_TEST(tuner.settled());
  BOOST_TEST(tuner.reason() ==
             "settled at 16: p99 150 ms at 16 is over --max-latency-ms 100 even at the smallest "
             "size");
}

// --- against simulated endpoints ---

BOOST_AUTO_TEST_CASE(under_a_413_limit_it_settles_just_below_it) {
  const endpoint_model model{.max_batch = 700};
  closed_loop loop(model, pd::tuner_config{});
  loop.run_for(30s);
  BOOST_TEST(loop.tuner.settled());
  BOOST_TEST(loop.tuner.size() >= 630u);
  BOOST_TEST(loop.tuner.size() <= 700u);
  const double best = model.prompts_per_s(700);
  BOOST_TEST(model.prompts_per_s(loop.tuner.size()) >= 0.9 * best);
  BOOST_TEST(loop.measure(30s) >= 0.9 * best);
  BOOST_TEST(contains(loop.tuner.reason(),
                      "capped at " + loop.size_text() + ": the endpoint answered 413 at "));
  BOOST_TEST(loop.proposals_out_of_bounds == 0u);
}

BOOST_AUTO_TEST_CASE(it_finds_a_best_size_in_the_middle) {
  // Throughput B / (base + a B + b B^2) peaks at sqrt(base / b), about 707.
  const endpoint_model model{.per_prompt_squared_us = 0.1};
  const fixed_size best = best_fixed_size(model);
  BOOST_TEST_REQUIRE(best.size > 256u);
  BOOST_TEST_REQUIRE(best.size < 1024u);
  closed_loop loop(model, pd::tuner_config{});
  loop.run_for(30s);
  BOOST_TEST(loop.tuner.settled());
  BOOST_TEST(model.prompts_per_s(loop.tuner.size()) >= 0.9 * best.prompts_per_s);
  // In one run, with the periodic checks of a larger size included.
  BOOST_TEST(loop.measure(30s) >= 0.9 * best.prompts_per_s);
  BOOST_TEST(contains(loop.tuner.reason(), "settled at " + loop.size_text() + ": "));
  BOOST_TEST(contains(loop.tuner.reason(), "was not worth it"));
  BOOST_TEST(loop.proposals_out_of_bounds == 0u);
}

BOOST_AUTO_TEST_CASE(it_stays_within_max_latency) {
  // Throughput rises with the size; the cap allows up to 833 prompts.
  const endpoint_model model{.base = 75ms, .per_prompt_us = 30};
  const pd::tuner_config config{.max_latency = 100ms};
  const fixed_size best = best_fixed_size(model, config.max_latency);
  closed_loop loop(model, config);
  loop.run_for(30s);
  BOOST_TEST(loop.tuner.settled());
  BOOST_TEST((model.latency(loop.tuner.size()) <= config.max_latency));
  BOOST_TEST(model.prompts_per_s(loop.tuner.size()) >= 0.9 * best.prompts_per_s);
  BOOST_TEST(loop.measure(30s) >= 0.9 * best.prompts_per_s);
  BOOST_TEST(loop.over_max_latency == 0u);  // settled, it does not try past the cap again
  BOOST_TEST(contains(loop.tuner.reason(), "capped at " + loop.size_text() + ": p99 "));
  BOOST_TEST(contains(loop.tuner.reason(), "is over --max-latency-ms 100"));
}

BOOST_AUTO_TEST_CASE(when_the_endpoint_slows_down_it_searches_again) {
  closed_loop loop(endpoint_model{.per_prompt_squared_us = 0.1}, pd::tuner_config{});
  loop.run_for(30s);
  BOOST_TEST_REQUIRE(loop.tuner.settled());
  const std::size_t before = loop.tuner.size();

  // Every prompt costs twice as much: the best size moves down by a factor of sqrt(2).
  loop.model.per_prompt_us *= 2;
  loop.model.per_prompt_squared_us *= 2;
  loop.run_for(30s);
  BOOST_TEST(loop.said("backing off to " + std::to_string(before / 2) + ": "));
  BOOST_TEST(loop.said("% under the "));
  BOOST_TEST(loop.tuner.settled());
  const fixed_size best = best_fixed_size(loop.model);
  BOOST_TEST(loop.model.prompts_per_s(loop.tuner.size()) >= 0.9 * best.prompts_per_s);
  BOOST_TEST(loop.measure(30s) >= 0.9 * best.prompts_per_s);
}

BOOST_AUTO_TEST_CASE(when_slower_answers_break_max_latency_it_shrinks_under_it) {
  const pd::tuner_config config{.max_latency = 100ms};
  closed_loop loop(endpoint_model{.base = 20ms, .per_prompt_us = 100}, config);
  loop.run_for(30s);
  BOOST_TEST_REQUIRE(loop.tuner.settled());
  BOOST_TEST_REQUIRE(loop.tuner.size() > 700u);

  loop.model.per_prompt_us = 200;  // the cap now allows 400 prompts
  loop.run_for(30s);
  BOOST_TEST(loop.said("backing off to "));
  BOOST_TEST(loop.said("is over --max-latency-ms 100"));
  BOOST_TEST(loop.tuner.settled());
  BOOST_TEST((loop.model.latency(loop.tuner.size()) <= config.max_latency));
  const fixed_size best = best_fixed_size(loop.model, config.max_latency);
  BOOST_TEST(loop.measure(30s) >= 0.9 * best.prompts_per_s);
  BOOST_TEST(loop.over_max_latency == 0u);
}

BOOST_AUTO_TEST_CASE(reasons_name_the_size_and_why) {
  closed_loop loop(endpoint_model{.max_batch = 700}, pd::tuner_config{});
  loop.run_for(30s);
  // Growth shows the best rate measured so far; 16 prompts per 50.32 ms on 8 connections.
  BOOST_TEST(loop.reasons.front() == "probing 16: measuring");
  BOOST_TEST(loop.said("probing 32: 2544 prompts/s so far"));
  BOOST_TEST(loop.said("probing 1024: 68.0k prompts/s so far"));
  BOOST_TEST((loop.tuner.phase() == pd::tuner_phase::settled));
  BOOST_TEST(loop.tuner.reason() == "capped at 672: the endpoint answered 413 at 704");

  closed_loop unlimited(endpoint_model{}, pd::tuner_config{.max_size = 600});
  unlimited.run_for(30s);
  BOOST_TEST(unlimited.tuner.reason() == "capped at 600: the largest size allowed");
}

BOOST_AUTO_TEST_CASE(never_proposes_above_max_size_or_at_a_refused_size) {
  for (std::size_t max_size : {std::size_t{600}, largest_size}) {
    for (std::size_t limit : {1, 2, 5, 15, 16, 17, 100, 700, 1000, 4095}) {
      BOOST_TEST_CONTEXT("max_size " << max_size << ", 413 above " << limit) {
        const endpoint_model model{.max_batch = limit};
        closed_loop loop(model, pd::tuner_config{.max_size = max_size});
        loop.run_for(20s);
        BOOST_TEST(loop.proposals_out_of_bounds == 0u);
        BOOST_TEST(loop.tuner.settled());
        const std::size_t best = std::min(limit, max_size);
        BOOST_TEST(loop.tuner.size() <= best);
        BOOST_TEST(model.prompts_per_s(loop.tuner.size()) >= 0.9 * model.prompts_per_s(best));
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
