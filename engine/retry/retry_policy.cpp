// The failure table of PROTOCOL.md section 2 as a pure function.
#include "retry/retry_policy.hpp"

#include <algorithm>
#include <cmath>

namespace promptpack::detail {

bool retry_policy::is_retryable_status(int status) noexcept {
  switch (status) {
    case 408:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
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

decision retry_policy::retry_or_fail(int exchanges, const exchange_outcome& outcome, double jitter,
                                     errc error) const {
  if (exchanges > config_.max_retries) return {.action = next_action::fail, .error = error};
  auto delay = backoff(exchanges, jitter);
  if (outcome.retry_after) delay = std::min(*outcome.retry_after, config_.backoff_cap);
  return {.action = next_action::retry_later, .delay = delay, .error = error};
}

decision retry_policy::decide(const exchange_outcome& outcome, std::size_t batch_size,
                              const attempt_budget& budget, double jitter) const {
  // After n exchanges, n - 1 retries are used and one more is allowed while n <= max_retries.
  // Exchanges that never reached the endpoint count on their own budget, so they use up no
  // retry, yet an unreachable endpoint still ends in an error.
  switch (outcome.result) {
    case exchange_result::ok:
      return {.action = next_action::fail, .error = errc::protocol};  // only unanswered prompts
    case exchange_result::stale_connection:
      if (budget.unsent <= config_.max_retries) return {.action = next_action::resend};
      return {.action = next_action::fail, .error = errc::connection};
    case exchange_result::connect_failed:
      return retry_or_fail(budget.unsent, outcome, jitter, errc::connection);
    case exchange_result::tls_failed:
      return {.action = next_action::fail, .error = errc::tls};
    case exchange_result::timeout:
      return retry_or_fail(budget.sent, outcome, jitter, errc::timeout);
    case exchange_result::connection_lost:
      return retry_or_fail(budget.sent, outcome, jitter, errc::connection);
    case exchange_result::endpoint_message:
      return retry_or_fail(budget.sent, outcome, jitter, errc::endpoint);
    case exchange_result::bad_body:
      return {.action = next_action::fail, .error = errc::protocol};
    case exchange_result::http_status:
      if (is_retryable_status(outcome.status)) {
        return retry_or_fail(budget.sent, outcome, jitter, errc::http_status);
      }
      if (outcome.status == 413 && batch_size > 1) return {.action = next_action::split};
      if (outcome.status >= 400 && outcome.status < 500 && batch_size > 1) {
        return {.action = next_action::bisect};
      }
      return {.action = next_action::fail, .error = errc::http_status};
  }
  return {.action = next_action::fail, .error = errc::protocol};
}

std::string failure_message(const exchange_outcome& outcome, errc error,
                            const attempt_budget& budget) {
  const int tries = budget.sent + budget.unsent;
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
