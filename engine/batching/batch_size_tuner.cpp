// The batch size search: measured windows, geometric growth, a bracketed refinement, back-offs.
#include "batching/batch_size_tuner.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <utility>

namespace promptpack::detail {
namespace {

tuner_config normalised(tuner_config config) {
  config.max_size = std::max<std::size_t>(1, config.max_size);
  config.min_size = std::clamp<std::size_t>(config.min_size, 1, config.max_size);
  config.window_exchanges = std::max<std::size_t>(1, config.window_exchanges);
  config.slow_windows = std::max(1, config.slow_windows);
  config.recheck_windows = std::max(1, config.recheck_windows);
  config.connections = std::max<std::size_t>(1, config.connections);
  return config;
}

// "876 prompts/s", "49.4k prompts/s", "1.9M prompts/s": short enough for a progress line.
std::string rate_text(double prompts_per_s) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1);
  if (prompts_per_s >= 1e6) {
    out << prompts_per_s / 1e6 << 'M';
  } else if (prompts_per_s >= 1e4) {
    out << prompts_per_s / 1e3 << 'k';
  } else {
    out << std::setprecision(0) << prompts_per_s;
  }
  out << " prompts/s";
  return out.str();
}

std::string milliseconds_text(std::chrono::steady_clock::duration latency) {
  const double ms = std::chrono::duration<double, std::milli>(latency).count();
  std::ostringstream out;
  out << std::fixed << std::setprecision(ms < 10 ? 1 : 0) << ms << " ms";
  return out.str();
}

// A share as a signed whole percentage: "+2%", "-21%".
std::string percent_text(double share) {
  const long percent = std::lround(share * 100);
  std::string text = percent >= 0 ? "+" : "";
  text += std::to_string(percent);
  text += '%';
  return text;
}

}  // namespace

batch_size_tuner::batch_size_tuner(tuner_config config, clock::time_point now)
    : config_(normalised(config)), size_(config_.min_size), size_since_(now), window_start_(now) {
  say_probing();
}

void batch_size_tuner::on_exchange(clock::time_point now, std::size_t prompts,
                                   clock::duration latency) {
  // A batch sent before the size last changed measures the old size; a partial one (the rest of
  // a submission dealt out in batches of this size, or a short queue) measures less than it,
  // and would favour sizes that happen to divide the submissions evenly.
  refusals_.answered(prompts);
  if (now - latency < size_since_ || prompts < size_) return;
  window_prompts_ += prompts;
  window_busy_ += latency;
  window_latencies_.push_back(latency);
  if (window_latencies_.size() < config_.window_exchanges ||
      now - window_start_ < config_.window_duration) {
    return;
  }
  const window_summary window = summarise();
  start_window(now);
  if (config_.max_latency > clock::duration::zero() && window.p99 > config_.max_latency) {
    over_latency(now, window);
  } else if (mode_ == search_mode::settled) {
    watch(now, window);
  } else {
    judge(now, window.prompts_per_s);
  }
}

void batch_size_tuner::on_too_large(clock::time_point now, std::size_t refused_size) {
  if (!refusals_.refused(refused_size)) return;  // about one prompt's length, not the count
  if (size_ < refused_size) return;  // a batch of an earlier, larger size: the current one fits
  if (mode_ != search_mode::settled && best_.size != 0 && best_.size < refused_size) {
    give_up_above(now, {.size = refused_size, .cause = limit_cause::too_large});
    return;
  }
  // Nothing below is known to fit: start again from half, as the scheduler splits the batch,
  // but not below min_size unless the endpoint refused that too.
  const std::size_t half = refused_size / 2;
  restart(now, config_.min_size < refused_size ? std::max(half, config_.min_size) : half,
          "the endpoint answered 413 at " + std::to_string(refused_size));
}

void batch_size_tuner::on_timeout(clock::time_point now, std::size_t prompts,
                                  clock::duration latency) {
  if (now - latency < size_since_ || prompts < size_) return;  // a batch of an older size
  if (size_ <= 1) return;  // nothing smaller to try: the endpoint is down, not overloaded
  // Below min_size if need be: an endpoint this slow is better served by small batches than by
  // none. A later check may try past the breach once the endpoint answers again.
  latency_breach_ = {.size = size_, .cause = limit_cause::timed_out, .p99 = latency};
  restart(now, size_ / 2,
          "a batch of " + std::to_string(size_) + " got no answer within " +
              milliseconds_text(latency));
}

batch_size_tuner::window_summary batch_size_tuner::summarise() {
  // Little's law: `connections` exchanges at once, each answering its prompts in its latency.
  // Unlike prompts over wall time, this is not diluted by exchanges of the previous size still
  // in flight when the window opened, nor by a connection waiting for prompts. A clock that did
  // not move counts as one tick, so the rate stays finite.
  const double busy_s =
      std::chrono::duration<double>(std::max(window_busy_, clock::duration(1))).count();
  const double prompts_per_s =
      static_cast<double>(config_.connections) * static_cast<double>(window_prompts_) / busy_s;
  const std::size_t rank = (window_latencies_.size() * 99 + 99) / 100 - 1;  // ceil(0.99 n) - 1
  const auto p99_at = window_latencies_.begin() + static_cast<std::ptrdiff_t>(rank);
  std::nth_element(window_latencies_.begin(), p99_at, window_latencies_.end());
  return {.prompts_per_s = prompts_per_s, .p99 = *p99_at};
}

void batch_size_tuner::start_window(clock::time_point now) {
  window_start_ = now;
  window_prompts_ = 0;
  window_busy_ = clock::duration::zero();
  window_latencies_.clear();
}

void batch_size_tuner::move_to(clock::time_point now, std::size_t new_size) {
  if (new_size != size_) {
    size_ = new_size;
    size_since_ = now;
  }
  start_window(now);
}

void batch_size_tuner::judge(clock::time_point now, double prompts_per_s) {
  if (best_.size == 0 || prompts_per_s > best_.prompts_per_s * (1 + config_.gain_threshold)) {
    best_ = {.size = size_, .prompts_per_s = prompts_per_s};
    if (mode_ == search_mode::growing) {
      checking_ = false;  // the larger size paid: a full search follows
      grow(now);
    } else {
      refine(now);
    }
    return;
  }
  const double gain = best_.prompts_per_s > 0 ? prompts_per_s / best_.prompts_per_s - 1 : 0;
  give_up_above(now, {.size = size_, .cause = limit_cause::no_gain, .gain = gain});
}

void batch_size_tuner::grow(clock::time_point now) {
  const std::size_t next = std::min(size_ * 2, highest_allowed());
  if (next <= size_) {
    bound_ = ceiling_bound();
    settle(now, settled_reason());
    return;
  }
  move_to(now, next);
  say_probing();
}

void batch_size_tuner::give_up_above(clock::time_point now, const upper_bound& bound) {
  bound_ = bound;
  if (checking_) {
    settle(now, settled_reason());  // the settled size is still the best
    return;
  }
  mode_ = search_mode::refining;
  refine(now);
}

void batch_size_tuner::refine(clock::time_point now) {
  // Bisection between the best size and the bound: the best lies between them, and the rate
  // changes little across a narrow bracket, so a few steps are enough.
  const std::size_t gap = bound_.size - best_.size;
  if (gap <= tolerance(best_.size)) {
    settle(now, settled_reason());
    return;
  }
  move_to(now, best_.size + gap / 2);
  say_probing();
}

void batch_size_tuner::settle(clock::time_point now, std::string why) {
  mode_ = search_mode::settled;
  checking_ = false;
  settled_rate_ = best_.prompts_per_s;
  slow_windows_ = 0;
  settled_windows_ = 0;
  move_to(now, best_.size);
  say(tuner_phase::settled, std::move(why));
}

void batch_size_tuner::restart(clock::time_point now, std::size_t start, const std::string& why) {
  mode_ = search_mode::growing;
  checking_ = false;
  best_ = {};
  move_to(now, std::min(start, highest_allowed()));
  say(tuner_phase::backing_off, "backing off to " + std::to_string(size_) + ": " + why);
}

void batch_size_tuner::over_latency(clock::time_point now, const window_summary& window) {
  const std::string over = "p99 " + milliseconds_text(window.p99) + " at " + std::to_string(size_) +
                           " is over --max-latency-ms " +
                           std::to_string(config_.max_latency.count());
  if (size_ <= lowest_allowed()) {
    best_ = {.size = size_, .prompts_per_s = window.prompts_per_s};
    settle(now, "settled at " + std::to_string(size_) + ": " + over + " even at the smallest size");
    return;
  }
  latency_breach_ = {.size = size_, .cause = limit_cause::too_slow, .p99 = window.p99};
  if (mode_ != search_mode::settled && best_.size != 0 && best_.size < size_) {
    give_up_above(now, latency_breach_);
    return;
  }
  // No smaller size is known to meet it: shrink by a quarter until one does, then search up
  // from there to the breach.
  restart(now, std::max(lowest_allowed(), size_ * 3 / 4), over);
}

void batch_size_tuner::watch(clock::time_point now, const window_summary& window) {
  if (window.prompts_per_s < settled_rate_ * (1 - config_.slowdown_threshold)) {
    // Loaded by others or degraded: the best size may have moved either way, so search again
    // from half the size (one doubling gets back here if nothing changed).
    if (++slow_windows_ >= config_.slow_windows) {
      const long drop = std::lround((1 - window.prompts_per_s / settled_rate_) * 100);
      restart(now, std::max(lowest_allowed(), size_ / 2),
              rate_text(window.prompts_per_s) + " is " + std::to_string(drop) + "% under the " +
                  rate_text(settled_rate_) + " settled at " + std::to_string(size_));
    }
    return;
  }
  slow_windows_ = 0;
  if (++settled_windows_ < config_.recheck_windows) return;
  settled_windows_ = 0;
  check_above(now, window);
}

void batch_size_tuner::check_above(clock::time_point now, const window_summary& window) {
  double room = static_cast<double>(highest_accepted());
  if (config_.max_latency > clock::duration::zero()) {
    // Under a latency model of a fixed cost plus a cost per prompt, latency grows at most in
    // proportion to the size: the settled p99 scaled up says which sizes may meet the limit,
    // so a check does not break it again while the endpoint is as slow as before.
    const double scale =
        std::chrono::duration<double>(config_.max_latency).count() /
        std::chrono::duration<double>(std::max(window.p99, clock::duration(1))).count();
    room = std::min(room, static_cast<double>(size_) * scale);
  }
  const std::size_t target = std::min(size_ * 2, static_cast<std::size_t>(room));
  if (target <= size_ + tolerance(size_)) return;
  latency_breach_ = {};  // the endpoint got faster: the old breach may no longer be one
  mode_ = search_mode::growing;
  checking_ = true;
  best_ = {.size = size_, .prompts_per_s = window.prompts_per_s};
  move_to(now, target);
  say_probing();
}

std::size_t batch_size_tuner::highest_accepted() const {
  const std::size_t refused = refused_at();
  return refused != 0 ? std::min(config_.max_size, refused - 1) : config_.max_size;
}

std::size_t batch_size_tuner::highest_allowed() const {
  const std::size_t accepted = highest_accepted();
  return latency_breach_.size != 0 ? std::min(accepted, latency_breach_.size - 1) : accepted;
}

std::size_t batch_size_tuner::lowest_allowed() const {
  return std::min(config_.min_size, highest_allowed());
}

std::size_t batch_size_tuner::tolerance(std::size_t around) const {
  return std::max<std::size_t>(
      1, static_cast<std::size_t>(static_cast<double>(around) * config_.bracket_resolution));
}

batch_size_tuner::upper_bound batch_size_tuner::ceiling_bound() const {
  const std::size_t top = highest_allowed();
  if (const std::size_t refused = refused_at(); refused != 0 && top == refused - 1) {
    return {.size = refused, .cause = limit_cause::too_large};
  }
  if (latency_breach_.size != 0 && top == latency_breach_.size - 1) return latency_breach_;
  return {.size = top + 1, .cause = limit_cause::largest_allowed};
}

std::string batch_size_tuner::settled_reason() const {
  const std::string at = std::to_string(best_.size);
  const std::string bound = std::to_string(bound_.size);
  switch (bound_.cause) {
    case limit_cause::no_gain:
      return "settled at " + at + ": " + percent_text(bound_.gain) + " at " + bound +
             " was not worth it";
    case limit_cause::too_large:
      return "capped at " + at + ": the endpoint answered 413 at " + bound;
    case limit_cause::too_slow:
      return "capped at " + at + ": p99 " + milliseconds_text(bound_.p99) + " at " + bound +
             " is over --max-latency-ms " + std::to_string(config_.max_latency.count());
    case limit_cause::timed_out:
      return "capped at " + at + ": a batch of " + bound + " got no answer within " +
             milliseconds_text(bound_.p99);
    case limit_cause::largest_allowed:
      break;
  }
  return "capped at " + at + ": the largest size allowed";
}

void batch_size_tuner::say_probing() {
  say(tuner_phase::probing,
      "probing " + std::to_string(size_) +
          (best_.size == 0 ? ": measuring" : ": " + rate_text(best_.prompts_per_s) + " so far"));
}

void batch_size_tuner::say(tuner_phase new_phase, std::string text) {
  phase_ = new_phase;
  reason_ = std::move(text);
}

}  // namespace promptpack::detail
