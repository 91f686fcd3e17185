// Sans-I/O health of one endpoint: consecutive failures lead to a growing cool-down.
#pragma once

#include <chrono>

namespace promptpack::detail {

struct health_config {
  int failure_threshold = 5;                      ///< consecutive failures before a cool-down
  std::chrono::milliseconds cooldown{2000};       ///< first cool-down
  std::chrono::milliseconds max_cooldown{60000};  ///< cool-downs double up to this
};

/// Not thread-safe: the scheduler calls it under its lock.
class endpoint_health {
 public:
  using clock = std::chrono::steady_clock;

  explicit endpoint_health(health_config config)
      : config_(config), next_cooldown_(config.cooldown) {}

  /// An exchange got a well-formed answer: the endpoint is healthy again.
  void on_success() noexcept;
  /// An exchange failed in a way that speaks of the endpoint (connect, timeout, 5xx, lost).
  void on_failure(clock::time_point now) noexcept;
  /// Nothing answers at all (connection refused): cool down at once, without waiting for the
  /// threshold, so queued work stops knocking on a closed door.
  void on_unreachable(clock::time_point now) noexcept;
  /// False while cooling down.
  bool available(clock::time_point now) const noexcept { return now >= cooling_until_; }
  clock::time_point cooling_until() const noexcept { return cooling_until_; }
  int consecutive_failures() const noexcept { return consecutive_failures_; }

 private:
  void start_cooldown(clock::time_point now) noexcept;

  health_config config_;
  int consecutive_failures_ = 0;
  std::chrono::milliseconds next_cooldown_;
  clock::time_point cooling_until_{};
};

}  // namespace promptpack::detail
