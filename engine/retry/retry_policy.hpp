// The sans-I/O failure rules of PROTOCOL.md section 2: retry, resend, split, bisect or fail.
#pragma once

#include "retry/exchange_outcome.hpp"

#include <promptpack/error.hpp>

#include <chrono>
#include <cstddef>
#include <string>

namespace promptpack::detail {

struct retry_config {
  int max_retries = 3;                           ///< exchanges after the first, per prompt
  std::chrono::milliseconds backoff_base{200};   ///< the first backoff, before jitter
  std::chrono::milliseconds backoff_cap{20000};  ///< longest backoff; Retry-After is capped here
};

/// How many exchanges a batch (and so each of its prompts) has been through.
struct attempt_budget {
  int sent = 0;    ///< exchanges that reached the endpoint: these use up retries
  int unsent = 0;  ///< exchanges that never reached it (refused connect, stale keep-alive)
};

enum class next_action : std::uint8_t {
  resend,       ///< send again now, on a fresh connection
  retry_later,  ///< send again after `delay`
  split,        ///< 413: send the two halves; the endpoint's batch limit drops to the half
  bisect,       ///< 4xx on a batch: send the two halves to find the prompts it rejects
  fail,         ///< complete every prompt of the batch with `error`
};

struct decision {
  next_action action = next_action::fail;
  std::chrono::milliseconds delay{0};
  errc error = errc::protocol;
};

/// Decides what follows an exchange. Pure: no clock, no randomness of its own.
class retry_policy {
 public:
  explicit retry_policy(retry_config config) : config_(config) {}

  /// `budget` already counts the exchange that produced `outcome`. `jitter` is uniform in [0, 1).
  decision decide(const exchange_outcome& outcome, std::size_t batch_size,
                  const attempt_budget& budget, double jitter) const;

  /// Exponential backoff with equal jitter: half the step, plus up to half again.
  std::chrono::milliseconds backoff(int retry_number, double jitter) const;

  /// True for the statuses that are retried with backoff: 408, 429, 500, 502, 503, 504.
  static bool is_retryable_status(int status) noexcept;

  const retry_config& config() const noexcept { return config_; }

 private:
  decision retry_or_fail(int exchanges, const exchange_outcome& outcome, double jitter,
                         errc error) const;

  retry_config config_;
};

/// The user-facing message for a failure, naming what happened, how often it was tried, and
/// what to do about it.
std::string failure_message(const exchange_outcome& outcome, errc error,
                            const attempt_budget& budget);

}  // namespace promptpack::detail
