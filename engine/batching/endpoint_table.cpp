// endpoint_config choice and per-endpoint limits, kept apart from batching and its lock.
#include "batching/endpoint_table.hpp"

#include <algorithm>

namespace promptpack::detail {

endpoint_table::endpoint_table(const std::vector<double>& weights, const endpoint_limits& limits)
    : max_batch_prompts_(limits.max_batch_prompts),
      refusals_before_stop_(std::max(1, limits.refusals_before_stop)) {
  const auto start = clock::now();
  for (std::size_t i = 0; i < weights.size(); ++i) {
    endpoints_.push_back(endpoint_state{.weight = weights[i] > 0 ? weights[i] : 1.0,
                                        .batch_limit = limits.max_batch_prompts,
                                        .health = endpoint_health(limits.health),
                                        .requests = token_bucket(limits.max_requests_per_s),
                                        .prompts = token_bucket(limits.max_prompts_per_s)});
    if (limits.adaptive) {
      tuner_config tuner = limits.tuner;
      tuner.max_size = limits.max_batch_prompts;
      tuner.min_size = std::min(tuner.min_size, tuner.max_size);
      if (i < limits.connections.size()) tuner.connections = limits.connections[i];
      endpoints_.back().tuner.emplace(tuner, start);
    }
  }
}

void endpoint_table::too_large(std::size_t endpoint, std::size_t refused_size,
                               clock::time_point now) {
  auto& e = endpoints_[endpoint];
  if (e.tuner) {
    e.tuner->on_too_large(now, refused_size);
  } else if (e.refusals.refused(refused_size)) {
    e.batch_limit = std::max<std::size_t>(1, std::min(e.batch_limit, refused_size / 2));
  }
}

void endpoint_table::timed_out(std::size_t endpoint, std::size_t prompts, clock::duration elapsed,
                               clock::time_point now) {
  if (auto& tuner = endpoints_[endpoint].tuner) tuner->on_timeout(now, prompts, elapsed);
}

void endpoint_table::measured(std::size_t endpoint, std::size_t prompts, clock::duration elapsed,
                              clock::time_point now) {
  auto& e = endpoints_[endpoint];
  if (e.tuner) {
    e.tuner->on_exchange(now, prompts, elapsed);
    return;
  }
  // A 413 that an answer of this size shows was about one prompt no longer limits the size.
  e.refusals.answered(prompts);
  const std::size_t refused = e.refusals.smallest();
  e.batch_limit = refused ? std::max<std::size_t>(1, std::min(max_batch_prompts_, refused / 2))
                          : max_batch_prompts_;
}

std::string endpoint_table::tuning_summary() const {
  std::string text;
  for (std::size_t i = 0; i < endpoints_.size(); ++i) {
    if (!endpoints_[i].tuner) continue;
    if (!text.empty()) text += "; ";
    if (endpoints_.size() > 1) text += "endpoint " + std::to_string(i + 1) + ": ";
    text += endpoints_[i].tuner->reason();
  }
  return text;
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

void endpoint_table::not_sent(std::size_t endpoint, std::size_t prompts) {
  endpoints_[endpoint].requests.give_back(1);
  prompts_not_sent(endpoint, prompts);
}

void endpoint_table::prompts_not_sent(std::size_t endpoint, std::size_t prompts) {
  endpoints_[endpoint].prompts.give_back(static_cast<double>(prompts));
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

}  // namespace promptpack::detail
