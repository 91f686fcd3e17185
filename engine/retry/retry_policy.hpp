// The sans-I/O failure rules: what follows an exchange, decided without sockets or clocks.
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
  std::chrono::milliseconds backoff_cap{20000};  ///< the longest computed backoff
};

/// A batch's history: every count that decides its fate lives here, and only decide() changes it.
struct attempt_budget {
  int sent = 0;          ///< exchanges that reached the endpoint: these use up retries
  int unsent = 0;        ///< connects that failed: the request never left (own budget)
  int rate_limited = 0;  ///< 429 and 503 + Retry-After answers: waited out, never a retry
  int free_moves = 0;    ///< moves to another endpoint after a refused connect: free

  /// Exchanges and connects that carried or tried to carry the batch, as error records report.
  int attempts() const noexcept { return sent + unsent + rate_limited; }
};

enum class next_action : std::uint8_t {
  deliver,      ///< the exchange answered: hand the answers out (unanswered prompts fail)
  resend,       ///< send again now, on another endpoint, at no cost
  retry_later,  ///< send again after `delay`
  split,        ///< 413: send the two halves; the endpoint's batch limit drops to the half
  bisect,       ///< 4xx on a batch: send the two halves to find the prompts it rejects
  fail,         ///< complete every prompt of the batch with `error`
};

/// What the engine knows besides the outcome, at the moment it decides.
struct decision_context {
  std::chrono::steady_clock::time_point now;
  std::chrono::steady_clock::time_point deadline;  ///< the batch's total deadline
  double jitter = 0;                               ///< uniform in [0, 1), for the backoff
  bool cancelling = false;                         ///< the client is shutting down with cancel
  bool other_endpoint_healthy = false;             ///< another endpoint could take the batch now
};

struct decision {
  next_action action = next_action::fail;
  std::chrono::milliseconds delay{0};  ///< retry_later: how long
  errc error = errc::protocol;         ///< fail: the type; deliver: for unanswered prompts
  bool pause_endpoint = false;         ///< a rate limit: send nothing to this endpoint for `delay`
  bool endpoint_refuses = false;       ///< 401/403/404/405/407: says nothing of the prompts
  std::string why;                     ///< fail: what to add to the outcome's detail, if anything
};

/// Decides what follows an exchange, and counts it in the batch's budget. Pure: no clock, no
/// randomness of its own, no I/O.
class retry_policy {
 public:
  explicit retry_policy(retry_config config) : config_(config) {}

  /// `budget` is the batch's history before this exchange; decide() adds the exchange to it.
  decision decide(const exchange_outcome& outcome, std::size_t batch_size, attempt_budget& budget,
                  const decision_context& context) const;

  /// Exponential backoff with equal jitter: half the step, plus up to half again.
  std::chrono::milliseconds backoff(int retry_number, double jitter) const;

  /// 408, 500, 502, 503 and 504: retried with backoff, using up retries.
  static bool is_retryable_status(int status) noexcept;
  /// 429, and 503 with a Retry-After: waited out without using up retries.
  static bool is_rate_limit(const exchange_outcome& outcome) noexcept;
  /// 401, 403, 404, 405, 407: no prompt causes them, so they are never bisected.
  static bool is_endpoint_refusal(int status) noexcept;

  const retry_config& config() const noexcept { return config_; }

 private:
  decision retry_or_fail(int exchanges, const exchange_outcome& outcome,
                         const decision_context& context, errc error) const;
  decision wait_out_rate_limit(const exchange_outcome& outcome, attempt_budget& budget,
                               const decision_context& context) const;

  retry_config config_;
};

/// The user-facing message for a failure, naming what happened, how often it was tried, and
/// what to do about it.
std::string failure_message(const exchange_outcome& outcome, errc error,
                            const attempt_budget& budget);

}  // namespace promptpack::detail
