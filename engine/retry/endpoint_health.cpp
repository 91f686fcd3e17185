// endpoint_config cool-down: a circuit breaker that opens after repeated failures.
#include "retry/endpoint_health.hpp"

#include <algorithm>

namespace promptpack::detail {

void endpoint_health::on_success() noexcept {
  consecutive_failures_ = 0;
  next_cooldown_ = config_.cooldown;
}

void endpoint_health::on_failure(clock::time_point now) noexcept {
  if (++consecutive_failures_ < config_.failure_threshold) return;
  start_cooldown(now);
}

void endpoint_health::on_unreachable(clock::time_point now) noexcept {
  consecutive_failures_ = std::max(consecutive_failures_ + 1, config_.failure_threshold);
  start_cooldown(now);
}

void endpoint_health::start_cooldown(clock::time_point now) noexcept {
  // Each failure at or past the threshold (re)starts a cool-down, longer each time, so a dead
  // endpoint is probed ever less often while a flaky one comes back quickly.
  cooling_until_ = now + next_cooldown_;
  next_cooldown_ = std::min(next_cooldown_ * 2, config_.max_cooldown);
}

}  // namespace promptpack::detail
