// The endpoints as the dispatcher sees them: weight, load, health, rate limits and 413 caps.
#pragma once

#include "batching/batch_size_tuner.hpp"
#include "batching/token_bucket.hpp"
#include "retry/endpoint_health.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace promptpack::detail {

struct endpoint_limits {
  std::size_t max_batch_prompts = 64;  ///< the batch cap before any 413
  double max_requests_per_s = 0;       ///< client-side limit per endpoint; 0: none
  double max_prompts_per_s = 0;        ///< client-side limit per endpoint; 0: none
  int refusals_before_stop = 3;        ///< consecutive 401/403/404/405/407 before it gets no more
  health_config health;
  /// `--batch-size auto`: each endpoint's batch size comes from its own tuner (max_size is
  /// max_batch_prompts); `connections` holds each endpoint's connection count.
  bool adaptive = false;
  tuner_config tuner;
  std::vector<std::size_t> connections;
};

/// Chooses where the next batch goes. Pure: time is a parameter; not thread-safe (the scheduler
/// calls it under its lock).
class endpoint_table {
 public:
  using clock = std::chrono::steady_clock;

  endpoint_table(const std::vector<double>& weights, const endpoint_limits& limits);

  std::size_t size() const noexcept { return endpoints_.size(); }

  /// The endpoint for a batch of `batch_size` prompts, among those for which `has_idle(e)` is
  /// true: least in-flight per weight among the ready ones (not refusing, not paused, within
  /// their rate limits), preferring healthy ones; a cooling endpoint is used only when none is
  /// healthy, so a cool-down moves traffic, never strands it. -1 when none can take it now.
  template <class HasIdle>
  int pick(clock::time_point now, HasIdle&& has_idle) {
    const bool any_healthy = any_available(now);
    int best = -1;
    double best_load = 0;
    for (std::size_t i = 0; i < endpoints_.size(); ++i) {
      auto& e = endpoints_[i];
      if (!has_idle(i) || !ready(e, now) || (any_healthy && !e.health.available(now))) continue;
      const double load = static_cast<double>(e.in_flight + 1) / e.weight;
      if (best < 0 || load < best_load) {
        best = static_cast<int>(i);
        best_load = load;
      }
    }
    return best;
  }

  /// A batch of `prompts` went to `endpoint`.
  void dispatched(std::size_t endpoint, std::size_t prompts, clock::time_point now);
  /// Its exchange ended (health is updated through health()).
  void exchange_ended(std::size_t endpoint);
  /// A dispatched batch of `prompts` was not sent: its rate-limit tokens come back.
  void not_sent(std::size_t endpoint, std::size_t prompts);
  /// `prompts` of a dispatched batch left it before it was sent: their prompt tokens come back.
  void prompts_not_sent(std::size_t endpoint, std::size_t prompts);
  endpoint_health& health(std::size_t endpoint) { return endpoints_[endpoint].health; }

  /// True when an endpoint other than `endpoint` is healthy and usable.
  bool another_available(std::size_t endpoint, clock::time_point now) const;
  /// A rate limit: nothing goes to `endpoint` before `until`.
  void pause(std::size_t endpoint, clock::time_point until, clock::time_point now);
  /// A rate-limit answer came (counted whether or not it is waited out).
  void rate_limited();
  /// A 401/403/404/405/407: after refusals_before_stop in a row, the endpoint gets no more.
  void refused(std::size_t endpoint, int status, const std::string& why);
  /// A well-formed answer: the refusal streak ends.
  void answered(std::size_t endpoint);
  /// True when every endpoint has stopped for refusals; `why` is the last one's reason.
  bool all_refusing() const;
  const std::string& refusal_reason() const noexcept { return last_refusal_; }
  int refusal_status() const noexcept { return last_refusal_status_; }

  /// A 413 from `endpoint` to a batch of `refused_size`: its batches stay below that from now on
  /// (half of it, or what its tuner chooses below it).
  void too_large(std::size_t endpoint, std::size_t refused_size, clock::time_point now);
  /// `endpoint` gave no answer to a batch of `prompts` within the request timeout: its tuner
  /// halves its size (a fixed size stays: the user chose it).
  void timed_out(std::size_t endpoint, std::size_t prompts, clock::duration elapsed,
                 clock::time_point now);
  /// An answered exchange of `endpoint`, for its tuner and its 413 limit.
  void measured(std::size_t endpoint, std::size_t prompts, clock::duration elapsed,
                clock::time_point now);
  std::size_t batch_limit(std::size_t endpoint) const {
    const auto& e = endpoints_[endpoint];
    return e.tuner ? e.tuner->size() : e.batch_limit;
  }
  /// Each tuned endpoint's batch size and why ("" when not adaptive), for progress and summary.
  std::string tuning_summary() const;

  /// The earliest time after `now` at which a paused, throttled or cooling endpoint with an idle
  /// connection becomes usable; clock::time_point::max() when none is waiting.
  template <class HasIdle>
  clock::time_point next_change(clock::time_point now, HasIdle&& has_idle) {
    auto wake = clock::time_point::max();
    for (std::size_t i = 0; i < endpoints_.size(); ++i) {
      auto& e = endpoints_[i];
      if (!has_idle(i) || e.refusing) continue;
      if (e.paused_until > now) wake = std::min(wake, e.paused_until);
      if (!e.health.available(now)) wake = std::min(wake, e.health.cooling_until());
      const auto buckets = std::max(e.requests.ready_at(now), e.prompts.ready_at(now));
      if (buckets > now) wake = std::min(wake, buckets);
    }
    return wake;
  }

  /// Total time endpoints were paused by rate limits (overlapping pauses of one endpoint count
  /// once).
  clock::duration rate_limit_wait() const noexcept { return rate_limit_wait_; }
  std::uint64_t rate_limited_answers() const noexcept { return rate_limited_answers_; }

 private:
  struct endpoint_state {
    double weight = 1;
    std::size_t in_flight = 0;
    std::size_t batch_limit = 0;
    size_refusals refusals;  // fixed size only: the tuner keeps its own
    endpoint_health health;
    clock::time_point paused_until{};
    token_bucket requests;
    token_bucket prompts;
    int refusal_streak = 0;
    bool refusing = false;
    std::optional<batch_size_tuner> tuner;  // --batch-size auto only
  };

  bool ready(endpoint_state& e, clock::time_point now) {
    return !e.refusing && e.paused_until <= now && e.requests.ready(now) && e.prompts.ready(now);
  }
  bool any_available(clock::time_point now) const;

  std::vector<endpoint_state> endpoints_;
  std::size_t max_batch_prompts_;
  int refusals_before_stop_;
  std::string last_refusal_;
  int last_refusal_status_ = 0;
  clock::duration rate_limit_wait_{};
  std::uint64_t rate_limited_answers_ = 0;
};

}  // namespace promptpack::detail
