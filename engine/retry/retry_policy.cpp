// The failure table of the protocol (docs/protocol.md) as a pure function.
#include "retry/retry_policy.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace promptpack::detail {
namespace {

// Resends that cost nothing are still bounded, so two dead endpoints cannot pass a batch
// between them forever: past this many, they count like any other failed connect.
constexpr int max_free_moves = 32;

std::string seconds_text(std::chrono::milliseconds delay) {
  std::ostringstream out;
  out << static_cast<double>(delay.count()) / 1000.0;
  return out.str();
}

}  // namespace

bool retry_policy::is_retryable_status(int status) noexcept {
  switch (status) {
    case 408:
    case 500:
    case 502:
    case 503:
    case 504:
      return true;
    default:
      return false;
  }
}

bool retry_policy::is_rate_limit(const exchange_outcome& outcome) noexcept {
  return outcome.result == exchange_result::http_status &&
         (outcome.status == 429 || (outcome.status == 503 && outcome.retry_after.has_value()));
}

bool retry_policy::is_endpoint_refusal(int status) noexcept {
  switch (status) {
    case 401:
    case 403:
    case 404:
    case 405:
    case 407:
      return true;
    default:
      return false;
  }
}

std::chrono::milliseconds retry_policy::backoff(int retry_number, double jitter) const {
  const double exponent = std::clamp(retry_number - 1, 0, 30);
  const double step =
      std::min(static_cast<double>(config_.backoff_cap.count()),
               static_cast<double>(config_.backoff_base.count()) * std::exp2(exponent));
  return std::chrono::milliseconds(static_cast<std::int64_t>(step / 2 + jitter * step / 2));
}

decision retry_policy::retry_or_fail(int exchanges, const exchange_outcome& outcome,
                                     const decision_context& context, errc error) const {
  if (exchanges > config_.max_retries) return {.action = next_action::fail, .error = error};
  // A Retry-After of zero, or a date in the past, gets the normal backoff: honouring it
  // literally would spend every retry within milliseconds.
  auto delay = backoff(exchanges, context.jitter);
  if (outcome.retry_after && *outcome.retry_after > delay) delay = *outcome.retry_after;
  if (context.now + delay >= context.deadline) {
    return {.action = next_action::fail,
            .error = error,
            .why = "the next try, in " + seconds_text(delay) +
                   " s, would pass the prompt's total timeout"};
  }
  return {.action = next_action::retry_later, .delay = delay, .error = error};
}

decision retry_policy::wait_out_rate_limit(const exchange_outcome& outcome, attempt_budget& budget,
                                           const decision_context& context) const {
  ++budget.rate_limited;
  auto delay = backoff(budget.rate_limited, context.jitter);
  if (outcome.retry_after && *outcome.retry_after > delay) delay = *outcome.retry_after;
  if (context.now + delay >= context.deadline) {
    return {.action = next_action::fail,
            .error = errc::http_status,
            .why = "rate limited: waiting " + seconds_text(delay) +
                   " s more would pass the prompt's total timeout; raise --total-timeout, or "
                   "lower the request rate (--max-requests-per-s)"};
  }
  return {.action = next_action::retry_later,
          .delay = delay,
          .error = errc::http_status,
          .pause_endpoint = true};
}

decision retry_policy::decide(const exchange_outcome& outcome, std::size_t batch_size,
                              attempt_budget& budget, const decision_context& context) const {
  // Shutting down with cancel: whatever went wrong, nothing is tried again.
  if (context.cancelling && outcome.result != exchange_result::ok) {
    return {.action = next_action::fail, .error = errc::cancelled};
  }
  switch (outcome.result) {
    case exchange_result::ok:
      ++budget.sent;
      return {.action = next_action::deliver, .error = errc::protocol};
    case exchange_result::connect_failed:
      // Another endpoint takes the batch at once, at no cost: one dead endpoint among several
      // fails no prompt however long the job runs.
      if (context.other_endpoint_healthy && ++budget.free_moves <= max_free_moves) {
        return {.action = next_action::resend};
      }
      ++budget.unsent;
      return retry_or_fail(budget.unsent, outcome, context, errc::connection);
    case exchange_result::tls_failed:
      ++budget.unsent;
      return {.action = next_action::fail, .error = errc::tls};
    case exchange_result::timeout:
      return retry_or_fail(++budget.sent, outcome, context, errc::timeout);
    case exchange_result::connection_lost:
      return retry_or_fail(++budget.sent, outcome, context, errc::connection);
    case exchange_result::framing:
      return retry_or_fail(++budget.sent, outcome, context, errc::protocol);
    case exchange_result::endpoint_message:
      return retry_or_fail(++budget.sent, outcome, context, errc::endpoint);
    case exchange_result::bad_body:
      ++budget.sent;
      return {.action = next_action::fail, .error = errc::protocol};
    case exchange_result::http_status:
      break;
  }
  const int status = outcome.status;
  if (is_rate_limit(outcome)) return wait_out_rate_limit(outcome, budget, context);
  if (is_retryable_status(status)) {
    return retry_or_fail(++budget.sent, outcome, context, errc::http_status);
  }
  // Finding the bad half, or the size that fits, is not a retry: splits leave the budget alone.
  if (status == 413 && batch_size > 1) return {.action = next_action::split};
  if (status >= 400 && status < 500 && batch_size > 1 && !is_endpoint_refusal(status)) {
    return {.action = next_action::bisect};
  }
  ++budget.sent;
  if (is_endpoint_refusal(status)) {
    return {.action = next_action::fail, .error = errc::http_status, .endpoint_refuses = true};
  }
  return {.action = next_action::fail, .error = errc::http_status};
}

std::string failure_message(const exchange_outcome& outcome, errc error,
                            const attempt_budget& budget) {
  const int tries = budget.attempts();
  const std::string attempts =
      " (" + std::to_string(tries) + (tries == 1 ? " attempt)" : " attempts)");
  switch (error) {
    case errc::timeout:
      return outcome.detail + attempts + "; raise --request-timeout or lighten the endpoint's load";
    case errc::connection:
      return outcome.detail + attempts + "; check that the endpoint is up and --api-base is right";
    case errc::tls:
      return outcome.detail + attempts +
             "; pass --ca-file with the CA that signed the endpoint's certificate, and use the "
             "host name the certificate names";
    case errc::http_status:
      if (retry_policy::is_endpoint_refusal(outcome.status)) {
        return outcome.detail + attempts +
               "; no prompt causes this: check the API key (--api-key) and the URL (--api-base)";
      }
      return outcome.detail + attempts;
    case errc::endpoint:
      return "endpoint answered message: " + outcome.detail + attempts;
    case errc::protocol:
      return "endpoint's answer breaks the protocol: " + outcome.detail + attempts;
    case errc::invalid_input:
    case errc::cancelled:
      break;
  }
  return outcome.detail;
}

}  // namespace promptpack::detail
