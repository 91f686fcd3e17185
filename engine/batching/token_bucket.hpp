// A token bucket for client-side rate limits, driven by the caller's clock.
#pragma once

#include <algorithm>
#include <chrono>

namespace promptpack::detail {

/// Tokens refill at `rate_per_s` up to one second's worth (at least one). A take may overdraw:
/// the debt delays the next take, so a batch larger than the bucket still goes, and the long-run
/// rate holds. A rate of 0 means no limit. Not thread-safe; pure (time is a parameter).
class token_bucket {
 public:
  using clock = std::chrono::steady_clock;

  explicit token_bucket(double rate_per_s = 0)
      : rate_(rate_per_s), capacity_(std::max(1.0, rate_per_s)), tokens_(capacity_) {}

  bool limited() const noexcept { return rate_ > 0; }

  /// True when a take may happen now.
  bool ready(clock::time_point now) {
    refill(now);
    return !limited() || tokens_ > 0;
  }

  /// When ready() turns true (now, if it is already).
  clock::time_point ready_at(clock::time_point now) {
    refill(now);
    if (!limited() || tokens_ > 0) return now;
    // Rounded up, and at least one tick: a time rounded down would say "ready" too early.
    const auto wait =
        std::chrono::ceil<clock::duration>(std::chrono::duration<double>(-tokens_ / rate_));
    return now + std::max(wait, clock::duration(1));
  }

  void take(double tokens, clock::time_point now) {
    if (!limited()) return;
    refill(now);
    tokens_ -= tokens;
  }
  /// Returns tokens taken for something that did not happen (a request not sent after all).
  void give_back(double tokens) {
    if (limited()) tokens_ = std::min(capacity_, tokens_ + tokens);
  }

 private:
  void refill(clock::time_point now) {
    if (!limited()) return;
    if (last_ != clock::time_point{} && now > last_) {
      tokens_ =
          std::min(capacity_, tokens_ + rate_ * std::chrono::duration<double>(now - last_).count());
    }
    if (now > last_) last_ = now;
  }

  double rate_;
  double capacity_;
  double tokens_;
  clock::time_point last_{};
};

}  // namespace promptpack::detail
