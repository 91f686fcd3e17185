// The sans-I/O core of --batch-size auto: one endpoint's batch size, chosen from what it measures.
#pragma once

#include "batching/size_refusals.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace promptpack::detail {

struct tuner_config {
  /// Where the search starts, and the smallest size it proposes (unless a 413 needs smaller).
  std::size_t min_size = 16;
  /// The largest size it proposes.
  std::size_t max_size = 4096;
  /// A window's p99 exchange latency stays within this; 0: no limit.
  std::chrono::milliseconds max_latency{0};
  /// A measurement window holds at least this many exchanges and lasts at least this long.
  std::size_t window_exchanges = 8;
  std::chrono::milliseconds window_duration{200};
  /// A larger size must beat the best rate by more than this share to count as better.
  double gain_threshold = 0.03;
  /// A settled window this share under the settled rate is slow; `slow_windows` in a row start
  /// the search again.
  double slowdown_threshold = 0.20;
  int slow_windows = 2;
  /// Settled windows between tries of a larger size.
  int recheck_windows = 30;
  /// Refining ends once the bracket is at most this share of the best size wide.
  double bracket_resolution = 1.0 / 16;
  /// Exchanges the endpoint carries at once (its connections): turns prompts per second of
  /// exchange time into the endpoint's prompts/s.
  std::size_t connections = 1;
};

/// What the tuner is doing, for the progress line.
enum class tuner_phase : std::uint8_t {
  probing,      ///< measuring sizes to find the best one
  backing_off,  ///< the size was just lowered (a 413, a p99 over max_latency, a slowdown)
  settled,      ///< using the best size found, and watching for slowdowns
};

/// One endpoint's batch size. It starts at min_size and doubles while each window's prompts/s beats
/// the best so far by more than gain_threshold; then it bisects between the best size and the
/// first size that did no better (or was refused with 413, or went over max_latency), and settles
/// at the best. Settled, it searches again from half the size after slow_windows slow windows in
/// a row, and every recheck_windows windows it tries a larger size, to follow an endpoint that
/// got faster. Pure: time is a parameter, nothing is read or sent; not thread-safe.
class batch_size_tuner {
 public:
  using clock = std::chrono::steady_clock;

  /// `now`: when the endpoint's first batch can go.
  batch_size_tuner(tuner_config config, clock::time_point now);

  /// An exchange of this endpoint ended at `now` with an answer: `prompts` answered, after
  /// `latency`. Failed exchanges are not reported: they measure the failure, not the size. Only
  /// full batches of the current size count.
  void on_exchange(clock::time_point now, std::size_t prompts, clock::duration latency);
  /// The endpoint answered 413 to a batch of `refused_size` prompts: from now on every size
  /// stays below it, unless a batch as large is answered (then the 413 was about one prompt).
  void on_too_large(clock::time_point now, std::size_t refused_size);
  /// A batch of `prompts` gave no answer within the request timeout, after `latency`. A batch of
  /// the current size halves it at once and caps the search below it: waiting for a window of
  /// timeouts would take minutes, and a size that never answers has no rate to judge.
  void on_timeout(clock::time_point now, std::size_t prompts, clock::duration latency);

  /// The batch size to use now.
  std::size_t size() const noexcept { return size_; }
  tuner_phase phase() const noexcept { return phase_; }
  bool settled() const noexcept { return phase_ == tuner_phase::settled; }
  /// The size and why, for the progress line and the summary ("probing 512: 1.9M prompts/s so
  /// far", "capped at 700: the endpoint answered 413 at 701").
  const std::string& reason() const noexcept { return reason_; }

 private:
  enum class search_mode : std::uint8_t { growing, refining, settled };

  // Why no size from `size` up is worth using (or allowed).
  enum class limit_cause : std::uint8_t {
    no_gain,
    too_large,
    too_slow,
    timed_out,
    largest_allowed
  };
  struct upper_bound {
    std::size_t size = 0;
    limit_cause cause = limit_cause::no_gain;
    double gain = 0;        ///< no_gain: the rate there against the best, as a share
    clock::duration p99{};  ///< too_slow: the p99 latency there; timed_out: the time waited
  };

  struct measured_size {
    std::size_t size = 0;  ///< 0: nothing measured yet
    double prompts_per_s = 0;
  };

  struct window_summary {
    double prompts_per_s = 0;
    clock::duration p99{};
  };

  window_summary summarise();
  void start_window(clock::time_point now);
  void move_to(clock::time_point now, std::size_t new_size);

  void judge(clock::time_point now, double prompts_per_s);
  void grow(clock::time_point now);
  void give_up_above(clock::time_point now, const upper_bound& bound);
  void refine(clock::time_point now);
  void settle(clock::time_point now, std::string why);
  void restart(clock::time_point now, std::size_t start, const std::string& why);
  void over_latency(clock::time_point now, const window_summary& window);
  void watch(clock::time_point now, const window_summary& window);
  void check_above(clock::time_point now, const window_summary& window);

  std::size_t refused_at() const { return refusals_.smallest(); }  // 0: none
  std::size_t highest_accepted() const;
  std::size_t highest_allowed() const;
  std::size_t lowest_allowed() const;
  std::size_t tolerance(std::size_t around) const;
  upper_bound ceiling_bound() const;
  std::string settled_reason() const;
  void say_probing();
  void say(tuner_phase new_phase, std::string text);

  tuner_config config_;
  std::size_t size_;
  tuner_phase phase_ = tuner_phase::probing;
  std::string reason_;

  // The search: the best size measured in it, and the smallest size above it known to be no
  // better (refining only).
  search_mode mode_ = search_mode::growing;
  bool checking_ = false;  // a settled size is trying a larger one: settle back unless it pays
  measured_size best_;
  upper_bound bound_;

  // Limits that outlive a search. A 413 is the endpoint's rule and stays; a latency breach
  // depends on its load, so a later check may try past it.
  size_refusals refusals_;
  upper_bound latency_breach_;  // the smallest size over max_latency or timed out; size 0: none

  double settled_rate_ = 0;
  int slow_windows_ = 0;
  int settled_windows_ = 0;

  clock::time_point size_since_;
  clock::time_point window_start_;
  std::size_t window_prompts_ = 0;
  clock::duration window_busy_{};  // the sum of the window's exchange latencies
  std::vector<clock::duration> window_latencies_;
};

}  // namespace promptpack::detail
