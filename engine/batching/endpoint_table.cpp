// endpoint_config choice and per-endpoint limits, kept apart from batching and its lock.
#include "batching/endpoint_table.hpp"

#include <algorithm>

namespace promptpack::detail {

endpoint_table::endpoint_table(const std::vector<double>& weights, const endpoint_limits& limits)
    : refusals_before_stop_(std::max(1, limits.refusals_before_stop)) {
  for (double weight : weights) {
    endpoints_.push_back(endpoint_state{.weight = weight > 0 ? weight : 1.0,
                                        .batch_limit = limits.max_batch_prompts,
                                        .health = endpoint_health(limits.health),
                                        .requests = token_bucket(limits.max_requests_per_s),
                                        .prompts = token_bucket(limits.max_prompts_per_s)});
  }
}

bool endpoint_table::any_available(clock::time_point now) const {
  return std::any_of(endpoints_.begin(), endpoints_.end(),
                     [&](const auto& e) { return !e.refusing && e.health.available(now); });
}

void endpoint_table::dispatched(std::size_t endpoint, std::size_t prompts, clock::time_point now) {
  auto& e = endpoints_[endpoint];
  ++e.in_flight;
  e.requests.take(1, now);
  e.prompts.take(static_cast<double>(prompts), now);
}

void endpoint_table::exchange_ended(std::size_t endpoint) {
  --endpoints_[endpoint].in_flight;
}

bool endpoint_table::another_available(std::size_t endpoint, clock::time_point now) const {
  for (std::size_t i = 0; i < endpoints_.size(); ++i) {
    const auto& e = endpoints_[i];
    if (i != endpoint && !e.refusing && e.paused_until <= now && e.health.available(now))
      return true;
  }
  return false;
}

void endpoint_table::pause(std::size_t endpoint, clock::time_point until, clock::time_point now) {
  auto& e = endpoints_[endpoint];
  const auto from = std::max(e.paused_until, now);
  if (until > from) {
    rate_limit_wait_ += until - from;
    e.paused_until = until;
  }
}

void endpoint_table::rate_limited() {
  ++rate_limited_answers_;
}

void endpoint_table::refused(std::size_t endpoint, int status, const std::string& why) {
  auto& e = endpoints_[endpoint];
  if (++e.refusal_streak >= refusals_before_stop_) e.refusing = true;
  last_refusal_ = why;
  last_refusal_status_ = status;
}

void endpoint_table::answered(std::size_t endpoint) {
  endpoints_[endpoint].refusal_streak = 0;
}

bool endpoint_table::all_refusing() const {
  return std::all_of(endpoints_.begin(), endpoints_.end(),
                     [](const auto& e) { return e.refusing; });
}

void endpoint_table::lower_batch_limit(std::size_t endpoint, std::size_t limit) {
  auto& e = endpoints_[endpoint];
  e.batch_limit = std::max<std::size_t>(1, std::min(e.batch_limit, limit));
}

}  // namespace promptpack::detail
