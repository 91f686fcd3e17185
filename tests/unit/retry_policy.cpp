// Tests for the retry policy: every row of PROTOCOL.md section 2 as a decision, backoff and
// messages.
#include "retry/retry_policy.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <optional>
#include <ostream>
#include <string>

namespace promptpack {
// Lets BOOST_TEST print an error type that differs from the expected one.
static std::ostream& boost_test_print_type(std::ostream& out, errc type) {
  return out << to_string(type);
}
namespace detail {
// Lets BOOST_TEST print an action that differs from the expected one.
static std::ostream& boost_test_print_type(std::ostream& out, next_action action) {
  switch (action) {
    case next_action::resend:
      return out << "resend";
    case next_action::retry_later:
      return out << "retry_later";
    case next_action::split:
      return out << "split";
    case next_action::bisect:
      return out << "bisect";
    case next_action::fail:
      return out << "fail";
  }
  return out << "unknown";
}
}  // namespace detail
}  // namespace promptpack

namespace {

using namespace std::chrono_literals;
using promptpack::errc;
using promptpack::detail::attempt_budget;
using promptpack::detail::decision;
using promptpack::detail::exchange_outcome;
using promptpack::detail::exchange_result;
using promptpack::detail::next_action;
using promptpack::detail::retry_config;

constexpr int max_retries = 3;
constexpr double jitter = 0.5;
const int retryable_statuses[] = {408, 429, 500, 502, 503, 504};

struct policy_fixture {
  promptpack::detail::retry_policy policy{
      retry_config{.max_retries = max_retries, .backoff_base = 200ms, .backoff_cap = 20000ms}};

  decision decide(exchange_result result, int status, attempt_budget budget,
                  std::size_t batch_size = 1,
                  std::optional<std::chrono::milliseconds> retry_after = std::nullopt) const {
    exchange_outcome outcome{
        .result = result, .status = status, .retry_after = retry_after, .detail = "what happened"};
    return policy.decide(outcome, batch_size, budget, jitter);
  }

  decision after_sent(exchange_result result, int sent, int status = 0,
                      std::size_t batch_size = 1) const {
    return decide(result, status, {.sent = sent, .unsent = 0}, batch_size);
  }

  // A result that uses up the sent budget: retry_later with backoff while retries remain, then
  // `error`.
  void check_retried_then_fails(exchange_result result, int status, errc error) const {
    for (int sent = 1; sent <= max_retries; ++sent) {
      BOOST_TEST_CONTEXT("after " << sent << " exchanges") {
        const auto d = after_sent(result, sent, status);
        BOOST_TEST(d.action == next_action::retry_later);
        BOOST_TEST(d.delay.count() == policy.backoff(sent, jitter).count());
        BOOST_TEST(d.error == error);
      }
    }
    const auto d = after_sent(result, max_retries + 1, status);
    BOOST_TEST(d.action == next_action::fail);
    BOOST_TEST(d.error == error);
  }

  void check_fails_at_once(exchange_result result, int status, std::size_t batch_size,
                           errc error) const {
    for (int sent = 1; sent <= max_retries + 1; ++sent) {
      BOOST_TEST_CONTEXT("after " << sent << " exchanges") {
        const auto d = after_sent(result, sent, status, batch_size);
        BOOST_TEST(d.action == next_action::fail);
        BOOST_TEST(d.error == error);
      }
    }
  }
};

std::string message(exchange_result result, errc error, attempt_budget budget) {
  const exchange_outcome outcome{
      .result = result, .status = 0, .retry_after = std::nullopt, .detail = "DETAIL-TEXT"};
  return promptpack::detail::failure_message(outcome, error, budget);
}

bool retryable(int status) {
  return promptpack::detail::retry_policy::is_retryable_status(status);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(retry_policy)

BOOST_FIXTURE_TEST_CASE(stale_keep_alive_resends_without_using_a_retry, policy_fixture) {
  for (int unsent = 1; unsent <= max_retries; ++unsent) {
    // Even with every retry already used by exchanges that reached the endpoint.
    for (int sent : {0, max_retries + 1}) {
      BOOST_TEST_CONTEXT("unsent " << unsent << ", sent " << sent) {
        const auto d =
            decide(exchange_result::stale_connection, 0, {.sent = sent, .unsent = unsent});
        BOOST_TEST(d.action == next_action::resend);
        BOOST_TEST(d.delay.count() == 0);
      }
    }
  }
  const auto d =
      decide(exchange_result::stale_connection, 0, {.sent = 0, .unsent = max_retries + 1});
  BOOST_TEST(d.action == next_action::fail);
  BOOST_TEST(d.error == errc::connection);
}

BOOST_FIXTURE_TEST_CASE(connect_failed_retries_on_the_unsent_budget, policy_fixture) {
  for (int unsent = 1; unsent <= max_retries; ++unsent) {
    for (int sent : {0, max_retries + 1}) {
      BOOST_TEST_CONTEXT("unsent " << unsent << ", sent " << sent) {
        const auto d = decide(exchange_result::connect_failed, 0, {.sent = sent, .unsent = unsent});
        BOOST_TEST(d.action == next_action::retry_later);
        BOOST_TEST(d.delay.count() == policy.backoff(unsent, jitter).count());
      }
    }
  }
  const auto d = decide(exchange_result::connect_failed, 0, {.sent = 0, .unsent = max_retries + 1});
  BOOST_TEST(d.action == next_action::fail);
  BOOST_TEST(d.error == errc::connection);
}

BOOST_FIXTURE_TEST_CASE(retryable_statuses_back_off_then_fail_http_status, policy_fixture) {
  for (int status : retryable_statuses) {
    BOOST_TEST_CONTEXT("status " << status) {
      BOOST_TEST(retryable(status));
      check_retried_then_fails(exchange_result::http_status, status, errc::http_status);
      // The batch size does not matter: these are the endpoint's trouble, not the prompts'.
      BOOST_TEST(after_sent(exchange_result::http_status, 1, status, 10).action ==
                 next_action::retry_later);
    }
  }
}

BOOST_FIXTURE_TEST_CASE(retry_after_is_honoured_and_capped, policy_fixture) {
  const attempt_budget first{.sent = 1, .unsent = 0};
  BOOST_TEST(decide(exchange_result::http_status, 503, first, 1, 7s).delay.count() == 7000);
  BOOST_TEST(decide(exchange_result::http_status, 429, first, 1, 0ms).delay.count() == 0);
  // Longer than the exponential step would be, yet within the cap: taken as given.
  BOOST_TEST(decide(exchange_result::http_status, 429, first, 1, 15s).delay.count() == 15000);
  BOOST_TEST(decide(exchange_result::http_status, 503, first, 1, 1h).delay.count() ==
             policy.config().backoff_cap.count());
  // It never buys a retry beyond the budget.
  const auto last = decide(exchange_result::http_status, 503, {.sent = max_retries + 1}, 1, 1s);
  BOOST_TEST(last.action == next_action::fail);
}

BOOST_FIXTURE_TEST_CASE(too_large_splits_a_batch_and_fails_a_single_prompt, policy_fixture) {
  BOOST_TEST(!retryable(413));
  for (std::size_t size : {2u, 3u, 256u}) {
    BOOST_TEST(after_sent(exchange_result::http_status, 1, 413, size).action == next_action::split);
  }
  // A split uses no retry: it is the batch, not the endpoint, that was wrong.
  BOOST_TEST(after_sent(exchange_result::http_status, max_retries + 1, 413, 2).action ==
             next_action::split);
  check_fails_at_once(exchange_result::http_status, 413, 1, errc::http_status);
}

BOOST_FIXTURE_TEST_CASE(other_client_errors_bisect_a_batch_and_fail_a_single_prompt,
                        policy_fixture) {
  for (int status : {400, 401, 403, 404, 409, 422, 499}) {
    BOOST_TEST_CONTEXT("status " << status) {
      BOOST_TEST(!retryable(status));
      BOOST_TEST(after_sent(exchange_result::http_status, 1, status, 2).action ==
                 next_action::bisect);
      BOOST_TEST(after_sent(exchange_result::http_status, 1, status, 64).action ==
                 next_action::bisect);
      check_fails_at_once(exchange_result::http_status, status, 1, errc::http_status);
    }
  }
}

BOOST_FIXTURE_TEST_CASE(other_statuses_fail_at_once, policy_fixture) {
  for (int status : {301, 302, 304, 501, 505, 511, 599}) {
    BOOST_TEST_CONTEXT("status " << status) {
      BOOST_TEST(!retryable(status));
      check_fails_at_once(exchange_result::http_status, status, 1, errc::http_status);
      check_fails_at_once(exchange_result::http_status, status, 8, errc::http_status);
    }
  }
}

BOOST_FIXTURE_TEST_CASE(bad_body_fails_with_protocol, policy_fixture) {
  check_fails_at_once(exchange_result::bad_body, 200, 1, errc::protocol);
  check_fails_at_once(exchange_result::bad_body, 200, 8, errc::protocol);
}

BOOST_FIXTURE_TEST_CASE(endpoint_message_is_retried_like_503_then_fails_endpoint, policy_fixture) {
  check_retried_then_fails(exchange_result::endpoint_message, 200, errc::endpoint);
  for (int sent = 1; sent <= max_retries; ++sent) {
    BOOST_TEST(after_sent(exchange_result::endpoint_message, sent, 200).delay.count() ==
               after_sent(exchange_result::http_status, sent, 503).delay.count());
  }
}

BOOST_FIXTURE_TEST_CASE(timeout_is_retried_then_fails_timeout, policy_fixture) {
  check_retried_then_fails(exchange_result::timeout, 0, errc::timeout);
}

BOOST_FIXTURE_TEST_CASE(connection_lost_is_retried_then_fails_connection, policy_fixture) {
  check_retried_then_fails(exchange_result::connection_lost, 0, errc::connection);
}

BOOST_FIXTURE_TEST_CASE(tls_failure_fails_at_once, policy_fixture) {
  check_fails_at_once(exchange_result::tls_failed, 0, 1, errc::tls);
  check_fails_at_once(exchange_result::tls_failed, 0, 8, errc::tls);
  const auto d = decide(exchange_result::tls_failed, 0, {.sent = 0, .unsent = 1});
  BOOST_TEST(d.action == next_action::fail);
  BOOST_TEST(d.error == errc::tls);
}

BOOST_FIXTURE_TEST_CASE(backoff_grows_exponentially_and_is_capped, policy_fixture) {
  // With no jitter the delay is half the step: base * 2^(n-1) / 2.
  BOOST_TEST(policy.backoff(1, 0).count() == 100);
  BOOST_TEST(policy.backoff(2, 0).count() == 200);
  BOOST_TEST(policy.backoff(3, 0).count() == 400);
  BOOST_TEST(policy.backoff(4, 0).count() == 800);
  const auto cap = policy.config().backoff_cap.count();
  BOOST_TEST(policy.backoff(20, 0).count() == cap / 2);
  for (int n : {8, 20, 31, 64, 1000, 1 << 30}) {
    BOOST_TEST_CONTEXT("retry " << n) {
      BOOST_TEST(policy.backoff(n, 0.999999).count() <= cap);
      BOOST_TEST(policy.backoff(n, 0.999999).count() >= cap / 2);
    }
  }
  // A nonsense retry number is treated as the first.
  BOOST_TEST(policy.backoff(0, 0).count() == 100);
  BOOST_TEST(policy.backoff(-5, 0).count() == 100);
}

BOOST_FIXTURE_TEST_CASE(backoff_jitter_stays_within_half_a_step, policy_fixture) {
  const auto base = policy.config().backoff_base.count();
  const auto cap = policy.config().backoff_cap.count();
  for (int n = 1; n <= 12; ++n) {
    const auto step = std::min<std::int64_t>(cap, base << (n - 1));
    std::int64_t previous = -1;
    for (double j : {0.0, 0.1, 0.25, 0.5, 0.75, 0.999999}) {
      BOOST_TEST_CONTEXT("retry " << n << ", jitter " << j) {
        const auto d = policy.backoff(n, j).count();
        BOOST_TEST(d >= step / 2);
        BOOST_TEST(d <= step);
        BOOST_TEST(d >= previous);  // more jitter, never less delay
        previous = d;
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(failure_messages_name_the_cause_the_attempts_and_a_remedy) {
  const auto timeout = message(exchange_result::timeout, errc::timeout, {.sent = 4, .unsent = 0});
  BOOST_TEST(contains(timeout, "DETAIL-TEXT"));
  BOOST_TEST(contains(timeout, "4 attempts"));
  BOOST_TEST(contains(timeout, "--request-timeout"));

  // Exchanges that never reached the endpoint are attempts too.
  const auto connection =
      message(exchange_result::connect_failed, errc::connection, {.sent = 1, .unsent = 3});
  BOOST_TEST(contains(connection, "DETAIL-TEXT"));
  BOOST_TEST(contains(connection, "4 attempts"));
  BOOST_TEST(contains(connection, "--api-base"));

  const auto tls = message(exchange_result::tls_failed, errc::tls, {.sent = 0, .unsent = 1});
  BOOST_TEST(contains(tls, "DETAIL-TEXT"));
  BOOST_TEST(contains(tls, "1 attempt"));
  BOOST_TEST(!contains(tls, "1 attempts"));
  BOOST_TEST(contains(tls, "--ca-file"));

  const auto status = message(exchange_result::http_status, errc::http_status, {.sent = 2});
  BOOST_TEST(contains(status, "DETAIL-TEXT"));
  BOOST_TEST(contains(status, "2 attempts"));

  const auto endpoint = message(exchange_result::endpoint_message, errc::endpoint, {.sent = 4});
  BOOST_TEST(contains(endpoint, "DETAIL-TEXT"));
  BOOST_TEST(contains(endpoint, "4 attempts"));

  const auto protocol = message(exchange_result::bad_body, errc::protocol, {.sent = 1});
  BOOST_TEST(contains(protocol, "DETAIL-TEXT"));
  BOOST_TEST(contains(protocol, "1 attempt"));
}

BOOST_AUTO_TEST_SUITE_END()
