// Tests for the retry policy: each failure-table row, its cost, deadlines, backoff and messages.
#include "retry/retry_policy.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "common/contains.hpp"

namespace promptpack {
// Lets BOOST_TEST print an error type that differs from the expected one.
static std::ostream& boost_test_print_type(std::ostream& out, errc type) {
  return out << to_string(type);
}
namespace detail {
// Lets BOOST_TEST print an action that differs from the expected one.
static std::ostream& boost_test_print_type(std::ostream& out, next_action action) {
  switch (action) {
    case next_action::deliver:
      return out << "deliver";
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
using promptpack::detail::decision_context;
using promptpack::detail::exchange_outcome;
using promptpack::detail::exchange_result;
using promptpack::detail::next_action;
using promptpack::detail::retry_config;
using promptpack::test::contains;
using time_point = std::chrono::steady_clock::time_point;

constexpr int max_retries = 3;
constexpr double jitter = 0.5;
// The bound on resends that cost nothing, as in retry_policy.cpp.
constexpr int max_free_moves = 32;
const int endpoint_refusals[] = {401, 403, 404, 405, 407};

// A synthetic now: no test reads the real clock or sleeps.
const time_point now = time_point{} + 1h;
// A deadline no test reaches unless it is about the deadline.
const time_point far_deadline = now + 24h;
const decision_context relaxed{.now = now, .deadline = far_deadline, .jitter = jitter};

exchange_outcome outcome_of(exchange_result result) {
  return {.result = result, .status = 0, .retry_after = std::nullopt, .detail = "DETAIL-TEXT"};
}

exchange_outcome http_answer(int status,
                             std::optional<std::chrono::milliseconds> retry_after = std::nullopt) {
  return {.result = exchange_result::http_status,
          .status = status,
          .retry_after = retry_after,
          .detail = "DETAIL-TEXT"};
}

bool retryable(int status) {
  return promptpack::detail::retry_policy::is_retryable_status(status);
}

bool rate_limit(const exchange_outcome& outcome) {
  return promptpack::detail::retry_policy::is_rate_limit(outcome);
}

bool endpoint_refusal(int status) {
  return promptpack::detail::retry_policy::is_endpoint_refusal(status);
}

// Checks every field of a decision. `error` only where it means something (deliver, retry_later,
// fail); `why` as a part that must appear, or, when the expected one is empty, must be empty.
void check_decision(const decision& actual, const decision& expected) {
  BOOST_TEST(actual.action == expected.action);
  BOOST_TEST(actual.delay.count() == expected.delay.count());
  if (expected.action == next_action::deliver || expected.action == next_action::retry_later ||
      expected.action == next_action::fail) {
    BOOST_TEST(actual.error == expected.error);
  }
  BOOST_TEST(actual.pause_endpoint == expected.pause_endpoint);
  BOOST_TEST(actual.endpoint_refuses == expected.endpoint_refuses);
  if (expected.why.empty()) {
    BOOST_TEST(actual.why == std::string{});
  } else {
    BOOST_TEST_CONTEXT("why: " << actual.why) {
      BOOST_TEST(contains(actual.why, expected.why));
    }
  }
}

void check_budget(const attempt_budget& actual, const attempt_budget& expected) {
  BOOST_TEST(actual.sent == expected.sent);
  BOOST_TEST(actual.unsent == expected.unsent);
  BOOST_TEST(actual.rate_limited == expected.rate_limited);
  BOOST_TEST(actual.free_moves == expected.free_moves);
}

struct policy_fixture {
  promptpack::detail::retry_policy policy{
      retry_config{.max_retries = max_retries, .backoff_base = 200ms, .backoff_cap = 20000ms}};

  std::chrono::milliseconds backoff(int retry_number) const {
    return policy.backoff(retry_number, jitter);
  }

  // A result that uses up retries: each exchange counts as sent, retry_later with the backoff
  // while retries remain, then `error`.
  void check_retried_then_fails(const exchange_outcome& outcome, errc error,
                                std::size_t batch_size = 1) const {
    attempt_budget budget;
    for (int sent = 1; sent <= max_retries; ++sent) {
      BOOST_TEST_CONTEXT("exchange " << sent) {
        const auto d = policy.decide(outcome, batch_size, budget, relaxed);
        check_decision(
            d, {.action = next_action::retry_later, .delay = backoff(sent), .error = error});
        check_budget(budget, {.sent = sent});
      }
    }
    const auto d = policy.decide(outcome, batch_size, budget, relaxed);
    check_decision(d, {.action = next_action::fail, .error = error});
    check_budget(budget, {.sent = max_retries + 1});
  }

  // A result that ends the batch on its first exchange, counted as sent.
  void check_fails_at_once(const exchange_outcome& outcome, std::size_t batch_size, errc error,
                           bool endpoint_refuses = false) const {
    attempt_budget budget{.sent = 0, .unsent = 1, .rate_limited = 2, .free_moves = 3};
    const auto d = policy.decide(outcome, batch_size, budget, relaxed);
    check_decision(
        d, {.action = next_action::fail, .error = error, .endpoint_refuses = endpoint_refuses});
    check_budget(budget, {.sent = 1, .unsent = 1, .rate_limited = 2, .free_moves = 3});
  }

  // A result that halves the batch: the budget is left as it was.
  void check_halves(const exchange_outcome& outcome, std::size_t batch_size,
                    next_action action) const {
    // Even with every retry already used: halving the batch is not a retry.
    attempt_budget budget{.sent = max_retries + 1, .unsent = 1, .rate_limited = 2, .free_moves = 3};
    const auto d = policy.decide(outcome, batch_size, budget, relaxed);
    check_decision(d, {.action = action});
    check_budget(budget,
                 {.sent = max_retries + 1, .unsent = 1, .rate_limited = 2, .free_moves = 3});
  }
};

std::string message(const exchange_outcome& outcome, errc error, const attempt_budget& budget) {
  return promptpack::detail::failure_message(outcome, error, budget);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(retry_policy)

// --- ok ---

BOOST_FIXTURE_TEST_CASE(ok_delivers_and_counts_a_sent_exchange, policy_fixture) {
  attempt_budget budget;
  check_decision(policy.decide(outcome_of(exchange_result::ok), 8, budget, relaxed),
                 {.action = next_action::deliver, .error = errc::protocol});
  check_budget(budget, {.sent = 1});

  // After a history that used every retry, an answer is still delivered.
  attempt_budget used{.sent = max_retries, .unsent = 2, .rate_limited = 5, .free_moves = 7};
  check_decision(policy.decide(outcome_of(exchange_result::ok), 1, used, relaxed),
                 {.action = next_action::deliver, .error = errc::protocol});
  check_budget(used, {.sent = max_retries + 1, .unsent = 2, .rate_limited = 5, .free_moves = 7});
}

// --- stale keep-alive connection ---

// --- connect failed ---

BOOST_FIXTURE_TEST_CASE(connect_failed_with_another_healthy_endpoint_resends_free, policy_fixture) {
  const decision_context healthy_elsewhere{
      .now = now, .deadline = far_deadline, .jitter = jitter, .other_endpoint_healthy = true};
  // Even with every retry of both kinds already used.
  attempt_budget budget{.sent = max_retries + 1, .unsent = max_retries + 1};
  for (int move = 1; move <= max_free_moves; ++move) {
    BOOST_TEST_CONTEXT("free move " << move) {
      check_decision(
          policy.decide(outcome_of(exchange_result::connect_failed), 1, budget, healthy_elsewhere),
          {.action = next_action::resend});
      check_budget(budget,
                   {.sent = max_retries + 1, .unsent = max_retries + 1, .free_moves = move});
    }
  }
}

BOOST_FIXTURE_TEST_CASE(connect_failed_past_32_free_moves_counts_as_unsent, policy_fixture) {
  const decision_context healthy_elsewhere{
      .now = now, .deadline = far_deadline, .jitter = jitter, .other_endpoint_healthy = true};
  attempt_budget budget{.free_moves = max_free_moves};
  for (int unsent = 1; unsent <= max_retries; ++unsent) {
    BOOST_TEST_CONTEXT("unsent " << unsent) {
      check_decision(
          policy.decide(outcome_of(exchange_result::connect_failed), 1, budget, healthy_elsewhere),
          {.action = next_action::retry_later,
           .delay = backoff(unsent),
           .error = errc::connection});
      check_budget(budget, {.unsent = unsent, .free_moves = max_free_moves + unsent});
    }
  }
  check_decision(
      policy.decide(outcome_of(exchange_result::connect_failed), 1, budget, healthy_elsewhere),
      {.action = next_action::fail, .error = errc::connection});
  check_budget(budget, {.unsent = max_retries + 1, .free_moves = max_free_moves + max_retries + 1});
}

BOOST_FIXTURE_TEST_CASE(connect_failed_alone_retries_on_the_unsent_budget_then_fails_connection,
                        policy_fixture) {
  // Retries used by exchanges that reached the endpoint do not count here.
  attempt_budget budget{.sent = max_retries + 1};
  for (int unsent = 1; unsent <= max_retries; ++unsent) {
    BOOST_TEST_CONTEXT("unsent " << unsent) {
      check_decision(policy.decide(outcome_of(exchange_result::connect_failed), 8, budget, relaxed),
                     {.action = next_action::retry_later,
                      .delay = backoff(unsent),
                      .error = errc::connection});
      check_budget(budget, {.sent = max_retries + 1, .unsent = unsent});
    }
  }
  check_decision(policy.decide(outcome_of(exchange_result::connect_failed), 8, budget, relaxed),
                 {.action = next_action::fail, .error = errc::connection});
  check_budget(budget, {.sent = max_retries + 1, .unsent = max_retries + 1});
}

BOOST_AUTO_TEST_CASE(
    connect_failed_with_zero_retries_fails_at_once_unless_another_endpoint_is_healthy) {
  const promptpack::detail::retry_policy no_retries{retry_config{.max_retries = 0}};

  attempt_budget alone;
  check_decision(no_retries.decide(outcome_of(exchange_result::connect_failed), 1, alone, relaxed),
                 {.action = next_action::fail, .error = errc::connection});
  check_budget(alone, {.unsent = 1});

  const decision_context healthy_elsewhere{
      .now = now, .deadline = far_deadline, .jitter = jitter, .other_endpoint_healthy = true};
  attempt_budget moved;
  check_decision(
      no_retries.decide(outcome_of(exchange_result::connect_failed), 1, moved, healthy_elsewhere),
      {.action = next_action::resend});
  check_budget(moved, {.free_moves = 1});

  // The same policy gives an exchange that reached the endpoint no second try either.
  attempt_budget timed_out;
  check_decision(no_retries.decide(outcome_of(exchange_result::timeout), 1, timed_out, relaxed),
                 {.action = next_action::fail, .error = errc::timeout});
  check_budget(timed_out, {.sent = 1});
}

// --- TLS ---

BOOST_FIXTURE_TEST_CASE(tls_failure_fails_tls_at_once, policy_fixture) {
  // Another endpoint does not help: the trust setup is the client's.
  const decision_context healthy_elsewhere{
      .now = now, .deadline = far_deadline, .jitter = jitter, .other_endpoint_healthy = true};
  for (std::size_t size : {1u, 8u}) {
    for (const auto& context_used : {relaxed, healthy_elsewhere}) {
      BOOST_TEST_CONTEXT("batch of " << size << ", other endpoint healthy "
                                     << context_used.other_endpoint_healthy) {
        attempt_budget budget;
        check_decision(
            policy.decide(outcome_of(exchange_result::tls_failed), size, budget, context_used),
            {.action = next_action::fail, .error = errc::tls});
        check_budget(budget, {.unsent = 1});
      }
    }
  }
}

// --- results that use up retries ---

BOOST_FIXTURE_TEST_CASE(timeout_is_retried_then_fails_timeout, policy_fixture) {
  check_retried_then_fails(outcome_of(exchange_result::timeout), errc::timeout);
}

BOOST_FIXTURE_TEST_CASE(connection_lost_is_retried_then_fails_connection, policy_fixture) {
  check_retried_then_fails(outcome_of(exchange_result::connection_lost), errc::connection);
}

BOOST_FIXTURE_TEST_CASE(framing_error_is_retried_then_fails_protocol, policy_fixture) {
  check_retried_then_fails(outcome_of(exchange_result::framing), errc::protocol);
}

BOOST_FIXTURE_TEST_CASE(endpoint_message_is_retried_like_500_then_fails_endpoint, policy_fixture) {
  check_retried_then_fails(outcome_of(exchange_result::endpoint_message), errc::endpoint);
  // The same waits as a 500.
  attempt_budget message_budget;
  attempt_budget status_budget;
  for (int sent = 1; sent <= max_retries; ++sent) {
    BOOST_TEST_CONTEXT("exchange " << sent) {
      const auto message_delay =
          policy.decide(outcome_of(exchange_result::endpoint_message), 1, message_budget, relaxed)
              .delay;
      const auto status_delay = policy.decide(http_answer(500), 1, status_budget, relaxed).delay;
      BOOST_TEST(message_delay.count() == status_delay.count());
    }
  }
}

// --- bad body ---

BOOST_FIXTURE_TEST_CASE(bad_body_fails_protocol_at_once, policy_fixture) {
  check_fails_at_once(outcome_of(exchange_result::bad_body), 1, errc::protocol);
  check_fails_at_once(outcome_of(exchange_result::bad_body), 8, errc::protocol);
}

// --- retryable statuses ---

BOOST_FIXTURE_TEST_CASE(retryable_statuses_are_retried_then_fail_http_status, policy_fixture) {
  for (int status : {408, 500, 502, 503, 504}) {
    // The batch size does not matter: these are the endpoint's trouble, not the prompts'.
    for (std::size_t size : {1u, 64u}) {
      BOOST_TEST_CONTEXT("status " << status << ", batch of " << size) {
        check_retried_then_fails(http_answer(status), errc::http_status, size);
      }
    }
  }
}

BOOST_FIXTURE_TEST_CASE(retry_after_longer_than_the_backoff_is_used_uncapped, policy_fixture) {
  // 60 s, three times the 20 s backoff cap: the endpoint knows best.
  attempt_budget budget;
  check_decision(
      policy.decide(http_answer(500, 60s), 1, budget, relaxed),
      {.action = next_action::retry_later, .delay = 60000ms, .error = errc::http_status});
  check_budget(budget, {.sent = 1});

  // Shorter than the backoff: the backoff.
  attempt_budget short_wait;
  check_decision(
      policy.decide(http_answer(500, 10ms), 1, short_wait, relaxed),
      {.action = next_action::retry_later, .delay = backoff(1), .error = errc::http_status});
  check_budget(short_wait, {.sent = 1});

  // It never buys a retry beyond the budget.
  attempt_budget used{.sent = max_retries};
  check_decision(policy.decide(http_answer(500, 1s), 1, used, relaxed),
                 {.action = next_action::fail, .error = errc::http_status});
  check_budget(used, {.sent = max_retries + 1});
}

BOOST_FIXTURE_TEST_CASE(retry_after_of_zero_or_a_past_date_gets_the_normal_backoff,
                        policy_fixture) {
  // A date in the past parses to a Retry-After of 0.
  for (double j : {0.0, 0.5, 0.999999}) {
    BOOST_TEST_CONTEXT("jitter " << j) {
      const decision_context jittered{.now = now, .deadline = far_deadline, .jitter = j};
      attempt_budget budget;
      const auto d = policy.decide(http_answer(500, 0ms), 1, budget, jittered);
      check_decision(d, {.action = next_action::retry_later,
                         .delay = policy.backoff(1, j),
                         .error = errc::http_status});
      BOOST_TEST(d.delay.count() > 0);
      check_budget(budget, {.sent = 1});
    }
  }
}

// --- rate limits ---

BOOST_FIXTURE_TEST_CASE(too_many_requests_without_retry_after_waits_the_backoff, policy_fixture) {
  for (std::size_t size : {1u, 64u}) {
    BOOST_TEST_CONTEXT("batch of " << size) {
      attempt_budget budget;
      check_decision(policy.decide(http_answer(429), size, budget, relaxed),
                     {.action = next_action::retry_later,
                      .delay = backoff(1),
                      .error = errc::http_status,
                      .pause_endpoint = true});
      check_budget(budget, {.rate_limited = 1});
    }
  }
}

BOOST_FIXTURE_TEST_CASE(too_many_requests_with_retry_after_waits_as_told, policy_fixture) {
  attempt_budget budget;
  check_decision(policy.decide(http_answer(429, 7s), 64, budget, relaxed),
                 {.action = next_action::retry_later,
                  .delay = 7000ms,
                  .error = errc::http_status,
                  .pause_endpoint = true});
  check_budget(budget, {.rate_limited = 1});

  // Longer than the backoff cap: used as is.
  attempt_budget long_wait;
  check_decision(policy.decide(http_answer(429, 90s), 1, long_wait, relaxed),
                 {.action = next_action::retry_later,
                  .delay = 90000ms,
                  .error = errc::http_status,
                  .pause_endpoint = true});
  check_budget(long_wait, {.rate_limited = 1});

  // Shorter than the backoff for this many rate limits: the backoff.
  attempt_budget repeated{.rate_limited = 4};
  BOOST_TEST(backoff(5).count() > 2000);
  check_decision(policy.decide(http_answer(429, 2s), 1, repeated, relaxed),
                 {.action = next_action::retry_later,
                  .delay = backoff(5),
                  .error = errc::http_status,
                  .pause_endpoint = true});
  check_budget(repeated, {.rate_limited = 5});
}

BOOST_FIXTURE_TEST_CASE(service_unavailable_with_retry_after_is_a_rate_limit, policy_fixture) {
  attempt_budget budget;
  check_decision(policy.decide(http_answer(503, 5s), 64, budget, relaxed),
                 {.action = next_action::retry_later,
                  .delay = 5000ms,
                  .error = errc::http_status,
                  .pause_endpoint = true});
  check_budget(budget, {.rate_limited = 1});

  // A Retry-After of 0 still marks it as a rate limit, waited out with the backoff.
  attempt_budget zero;
  check_decision(policy.decide(http_answer(503, 0ms), 1, zero, relaxed),
                 {.action = next_action::retry_later,
                  .delay = backoff(1),
                  .error = errc::http_status,
                  .pause_endpoint = true});
  check_budget(zero, {.rate_limited = 1});
}

BOOST_FIXTURE_TEST_CASE(rate_limits_never_use_up_retries, policy_fixture) {
  attempt_budget budget;
  for (int answer = 1; answer <= 50; ++answer) {
    BOOST_TEST_CONTEXT("rate limit " << answer) {
      // 429s and 503s with Retry-After, alternately.
      const auto outcome = answer % 2 == 0 ? http_answer(429) : http_answer(503, 1ms);
      check_decision(policy.decide(outcome, 1, budget, relaxed),
                     {.action = next_action::retry_later,
                      .delay = backoff(answer),
                      .error = errc::http_status,
                      .pause_endpoint = true});
      check_budget(budget, {.rate_limited = answer});
    }
  }
  // Every retry is still there for the endpoint's other trouble.
  check_decision(
      policy.decide(http_answer(500), 1, budget, relaxed),
      {.action = next_action::retry_later, .delay = backoff(1), .error = errc::http_status});
  check_budget(budget, {.sent = 1, .rate_limited = 50});
}

BOOST_FIXTURE_TEST_CASE(rate_limit_wait_reaching_the_deadline_fails_http_status, policy_fixture) {
  const decision_context ten_seconds_left{.now = now, .deadline = now + 10s, .jitter = jitter};

  // A wait that ends exactly at the deadline is too long.
  attempt_budget budget;
  check_decision(policy.decide(http_answer(429, 10s), 1, budget, ten_seconds_left),
                 {.action = next_action::fail, .error = errc::http_status, .why = "total timeout"});
  check_budget(budget, {.rate_limited = 1});

  attempt_budget unavailable;
  check_decision(policy.decide(http_answer(503, 1min), 8, unavailable, ten_seconds_left),
                 {.action = next_action::fail, .error = errc::http_status, .why = "total timeout"});
  check_budget(unavailable, {.rate_limited = 1});

  // Just within it: waited out.
  attempt_budget within;
  check_decision(policy.decide(http_answer(429, 9999ms), 1, within, ten_seconds_left),
                 {.action = next_action::retry_later,
                  .delay = 9999ms,
                  .error = errc::http_status,
                  .pause_endpoint = true});
  check_budget(within, {.rate_limited = 1});

  // Without Retry-After, the backoff decides.
  const decision_context almost_over{.now = now, .deadline = now + backoff(1), .jitter = jitter};
  attempt_budget no_header;
  check_decision(policy.decide(http_answer(429), 1, no_header, almost_over),
                 {.action = next_action::fail, .error = errc::http_status, .why = "total timeout"});
  check_budget(no_header, {.rate_limited = 1});
}

// --- the deadline ---

BOOST_FIXTURE_TEST_CASE(retry_whose_backoff_would_pass_the_deadline_fails, policy_fixture) {
  // The backoff ends exactly at the deadline: too late.
  const decision_context at_deadline{.now = now, .deadline = now + backoff(1), .jitter = jitter};
  attempt_budget timed_out;
  check_decision(policy.decide(outcome_of(exchange_result::timeout), 1, timed_out, at_deadline),
                 {.action = next_action::fail, .error = errc::timeout, .why = "total timeout"});
  check_budget(timed_out, {.sent = 1});

  attempt_budget unreachable;
  check_decision(
      policy.decide(outcome_of(exchange_result::connect_failed), 1, unreachable, at_deadline),
      {.action = next_action::fail, .error = errc::connection, .why = "total timeout"});
  check_budget(unreachable, {.unsent = 1});

  // One millisecond to spare: retried.
  const decision_context just_in_time{
      .now = now, .deadline = now + backoff(1) + 1ms, .jitter = jitter};
  attempt_budget in_time;
  check_decision(policy.decide(outcome_of(exchange_result::timeout), 1, in_time, just_in_time),
                 {.action = next_action::retry_later, .delay = backoff(1), .error = errc::timeout});
  check_budget(in_time, {.sent = 1});

  // A Retry-After that would pass the deadline fails too.
  const decision_context half_a_minute_left{.now = now, .deadline = now + 30s, .jitter = jitter};
  attempt_budget told_to_wait;
  check_decision(policy.decide(http_answer(500, 60s), 1, told_to_wait, half_a_minute_left),
                 {.action = next_action::fail, .error = errc::http_status, .why = "total timeout"});
  check_budget(told_to_wait, {.sent = 1});
}

// --- 413 ---

BOOST_FIXTURE_TEST_CASE(too_large_splits_a_batch_without_using_the_budget, policy_fixture) {
  for (std::size_t size : {2u, 3u, 256u}) {
    BOOST_TEST_CONTEXT("batch of " << size) {
      check_halves(http_answer(413), size, next_action::split);
    }
  }
}

BOOST_FIXTURE_TEST_CASE(too_large_fails_a_single_prompt_with_http_status, policy_fixture) {
  check_fails_at_once(http_answer(413), 1, errc::http_status);
}

// --- other 4xx ---

BOOST_FIXTURE_TEST_CASE(bad_request_and_unprocessable_bisect_a_batch_without_using_the_budget,
                        policy_fixture) {
  for (int status : {400, 422}) {
    for (std::size_t size : {2u, 64u}) {
      BOOST_TEST_CONTEXT("status " << status << ", batch of " << size) {
        check_halves(http_answer(status), size, next_action::bisect);
      }
    }
  }
}

BOOST_FIXTURE_TEST_CASE(bad_request_and_unprocessable_fail_a_single_prompt_with_http_status,
                        policy_fixture) {
  for (int status : {400, 422}) {
    BOOST_TEST_CONTEXT("status " << status) {
      check_fails_at_once(http_answer(status), 1, errc::http_status);
    }
  }
}

BOOST_FIXTURE_TEST_CASE(endpoint_refusals_fail_at_once_and_are_never_bisected, policy_fixture) {
  for (int status : endpoint_refusals) {
    for (std::size_t size : {64u, 1u}) {
      BOOST_TEST_CONTEXT("status " << status << ", batch of " << size) {
        check_fails_at_once(http_answer(status), size, errc::http_status, true);
      }
    }
  }
}

// --- 3xx ---

BOOST_FIXTURE_TEST_CASE(redirects_fail_http_status_and_are_never_followed, policy_fixture) {
  for (int status : {301, 302, 307}) {
    for (std::size_t size : {1u, 8u}) {
      BOOST_TEST_CONTEXT("status " << status << ", batch of " << size) {
        check_fails_at_once(http_answer(status), size, errc::http_status);
      }
    }
  }
}

// --- shutting down ---

BOOST_FIXTURE_TEST_CASE(cancelling_fails_every_non_ok_result_as_cancelled, policy_fixture) {
  const decision_context cancelling{.now = now,
                                    .deadline = far_deadline,
                                    .jitter = jitter,
                                    .cancelling = true,
                                    .other_endpoint_healthy = true};
  const std::vector<exchange_outcome> outcomes = {
      outcome_of(exchange_result::connect_failed),
      outcome_of(exchange_result::tls_failed),
      outcome_of(exchange_result::timeout),
      outcome_of(exchange_result::connection_lost),
      outcome_of(exchange_result::framing),
      outcome_of(exchange_result::bad_body),
      outcome_of(exchange_result::endpoint_message),
      http_answer(429),
      http_answer(503, 5s),
      http_answer(500),
      http_answer(413),
      http_answer(400),
      http_answer(401),
      http_answer(302),
  };
  for (const auto& outcome : outcomes) {
    for (std::size_t size : {1u, 8u}) {
      BOOST_TEST_CONTEXT("result " << static_cast<int>(outcome.result) << ", status "
                                   << outcome.status << ", batch of " << size) {
        attempt_budget budget{.sent = 1, .unsent = 1, .rate_limited = 1, .free_moves = 1};
        check_decision(policy.decide(outcome, size, budget, cancelling),
                       {.action = next_action::fail, .error = errc::cancelled});
        check_budget(budget, {.sent = 1, .unsent = 1, .rate_limited = 1, .free_moves = 1});
      }
    }
  }
}

BOOST_FIXTURE_TEST_CASE(cancelling_still_delivers_an_ok_exchange, policy_fixture) {
  const decision_context cancelling{
      .now = now, .deadline = far_deadline, .jitter = jitter, .cancelling = true};
  attempt_budget budget;
  check_decision(policy.decide(outcome_of(exchange_result::ok), 8, budget, cancelling),
                 {.action = next_action::deliver, .error = errc::protocol});
  check_budget(budget, {.sent = 1});
}

// --- backoff ---

BOOST_FIXTURE_TEST_CASE(backoff_doubles_and_is_capped, policy_fixture) {
  // With no jitter the delay is half the step: base * 2^(n-1) / 2.
  BOOST_TEST(policy.backoff(1, 0).count() == 100);
  BOOST_TEST(policy.backoff(2, 0).count() == 200);
  BOOST_TEST(policy.backoff(3, 0).count() == 400);
  BOOST_TEST(policy.backoff(4, 0).count() == 800);
  BOOST_TEST(policy.backoff(7, 0).count() == 6400);
  // 200 ms * 2^7 passes the 20 s cap.
  const auto cap = policy.config().backoff_cap.count();
  for (int n : {8, 20, 31, 64, 1000, 1 << 30}) {
    BOOST_TEST_CONTEXT("retry " << n) {
      BOOST_TEST(policy.backoff(n, 0).count() == cap / 2);
      BOOST_TEST(policy.backoff(n, 0.999999).count() <= cap);
    }
  }
  // A nonsense retry number is treated as the first.
  BOOST_TEST(policy.backoff(0, 0).count() == 100);
  BOOST_TEST(policy.backoff(-5, 0).count() == 100);
}

BOOST_FIXTURE_TEST_CASE(backoff_uses_equal_jitter, policy_fixture) {
  const auto base = policy.config().backoff_base.count();
  const auto cap = policy.config().backoff_cap.count();
  for (int n = 1; n <= 12; ++n) {
    const auto step = std::min<std::int64_t>(cap, base << (n - 1));
    BOOST_TEST_CONTEXT("retry " << n << ", step " << step) {
      // Jitter 0: half the step. Jitter 0.5: three quarters. Jitter near 1: the step.
      BOOST_TEST(policy.backoff(n, 0).count() == step / 2);
      BOOST_TEST(policy.backoff(n, 0.5).count() == step * 3 / 4);
      BOOST_TEST(policy.backoff(n, 0.999999).count() >= step - 1);
      BOOST_TEST(policy.backoff(n, 0.999999).count() <= step);
      std::int64_t previous = -1;
      for (double j : {0.0, 0.1, 0.25, 0.5, 0.75, 0.999999}) {
        BOOST_TEST_CONTEXT("jitter " << j) {
          const auto d = policy.backoff(n, j).count();
          BOOST_TEST(d >= step / 2);
          BOOST_TEST(d <= step);
          BOOST_TEST(d >= previous);  // more jitter, never less delay
          previous = d;
        }
      }
    }
  }
}

// --- the status tables ---

BOOST_AUTO_TEST_CASE(retryable_status_table) {
  for (int status : {408, 500, 502, 503, 504}) {
    BOOST_TEST_CONTEXT("status " << status) {
      BOOST_TEST(retryable(status));
    }
  }
  // 429 is a rate limit, not a retry; the rest end the prompt or halve the batch.
  for (int status :
       {0, 200, 301, 302, 307, 400, 401, 403, 404, 405, 407, 413, 422, 429, 501, 505, 599}) {
    BOOST_TEST_CONTEXT("status " << status) {
      BOOST_TEST(!retryable(status));
    }
  }
}

BOOST_AUTO_TEST_CASE(rate_limit_table) {
  BOOST_TEST(rate_limit(http_answer(429)));
  BOOST_TEST(rate_limit(http_answer(429, 3s)));
  BOOST_TEST(rate_limit(http_answer(503, 3s)));
  BOOST_TEST(rate_limit(http_answer(503, 0ms)));
  BOOST_TEST(!rate_limit(http_answer(503)));
  BOOST_TEST(!rate_limit(http_answer(500, 3s)));
  BOOST_TEST(!rate_limit(http_answer(502, 3s)));
  BOOST_TEST(!rate_limit(http_answer(413, 3s)));
  // Only an HTTP status counts, whatever else the outcome carries.
  exchange_outcome not_a_status = http_answer(429, 3s);
  not_a_status.result = exchange_result::timeout;
  BOOST_TEST(!rate_limit(not_a_status));
}

BOOST_AUTO_TEST_CASE(endpoint_refusal_table) {
  for (int status : endpoint_refusals) {
    BOOST_TEST_CONTEXT("status " << status) {
      BOOST_TEST(endpoint_refusal(status));
    }
  }
  for (int status : {200, 302, 400, 402, 406, 408, 409, 413, 422, 429, 500, 503}) {
    BOOST_TEST_CONTEXT("status " << status) {
      BOOST_TEST(!endpoint_refusal(status));
    }
  }
}

// --- failure messages ---

BOOST_AUTO_TEST_CASE(failure_message_keeps_the_detail_and_counts_attempts) {
  const auto one = message(outcome_of(exchange_result::timeout), errc::timeout, {.sent = 1});
  BOOST_TEST(contains(one, "DETAIL-TEXT"));
  BOOST_TEST(contains(one, "1 attempt"));
  BOOST_TEST(!contains(one, "1 attempts"));

  // Every kind of exchange is an attempt: sent, unsent and rate-limited ones.
  const attempt_budget mixed{.sent = 1, .unsent = 1, .rate_limited = 1};
  BOOST_TEST(mixed.attempts() == 3);
  const auto three = message(http_answer(500), errc::http_status, mixed);
  BOOST_TEST(contains(three, "DETAIL-TEXT"));
  BOOST_TEST(contains(three, "3 attempts"));

  // Free moves are not.
  const attempt_budget moved{.sent = 2, .free_moves = 7};
  BOOST_TEST(moved.attempts() == 2);
  BOOST_TEST(contains(message(http_answer(502), errc::http_status, moved), "2 attempts"));

  const auto endpoint =
      message(outcome_of(exchange_result::endpoint_message), errc::endpoint, {.sent = 4});
  BOOST_TEST(contains(endpoint, "DETAIL-TEXT"));
  BOOST_TEST(contains(endpoint, "4 attempts"));

  const auto protocol = message(outcome_of(exchange_result::bad_body), errc::protocol, {.sent = 1});
  BOOST_TEST(contains(protocol, "DETAIL-TEXT"));
  BOOST_TEST(contains(protocol, "1 attempt"));
}

BOOST_AUTO_TEST_CASE(failure_message_says_what_to_do_for_timeout_connection_and_tls) {
  const auto timeout = message(outcome_of(exchange_result::timeout), errc::timeout, {.sent = 4});
  BOOST_TEST(contains(timeout, "DETAIL-TEXT"));
  BOOST_TEST(contains(timeout, "4 attempts"));
  BOOST_TEST(contains(timeout, "--request-timeout"));

  const auto connection = message(outcome_of(exchange_result::connect_failed), errc::connection,
                                  {.sent = 1, .unsent = 3});
  BOOST_TEST(contains(connection, "DETAIL-TEXT"));
  BOOST_TEST(contains(connection, "4 attempts"));
  BOOST_TEST(contains(connection, "--api-base"));

  const auto tls = message(outcome_of(exchange_result::tls_failed), errc::tls, {.unsent = 1});
  BOOST_TEST(contains(tls, "DETAIL-TEXT"));
  BOOST_TEST(contains(tls, "1 attempt"));
  BOOST_TEST(!contains(tls, "1 attempts"));
  BOOST_TEST(contains(tls, "--ca-file"));
}

BOOST_AUTO_TEST_CASE(failure_message_for_endpoint_refusals_says_to_check_the_api_key_and_url) {
  for (int status : endpoint_refusals) {
    BOOST_TEST_CONTEXT("status " << status) {
      const auto text = message(http_answer(status), errc::http_status, {.sent = 1});
      BOOST_TEST(contains(text, "DETAIL-TEXT"));
      BOOST_TEST(contains(text, "1 attempt"));
      BOOST_TEST(contains(text, "API key"));
      BOOST_TEST(contains(text, "--api-key"));
      BOOST_TEST(contains(text, "URL"));
      BOOST_TEST(contains(text, "--api-base"));
    }
  }
  // Statuses a prompt can cause, or retries used up, point at no key.
  for (int status : {400, 413, 422, 500, 302}) {
    BOOST_TEST_CONTEXT("status " << status) {
      const auto text = message(http_answer(status), errc::http_status, {.sent = 1});
      BOOST_TEST(contains(text, "DETAIL-TEXT"));
      BOOST_TEST(!contains(text, "--api-key"));
    }
  }
}

BOOST_AUTO_TEST_CASE(failure_message_adds_nothing_for_invalid_input_or_cancelled) {
  const attempt_budget budget{.sent = 2, .unsent = 1, .rate_limited = 1};
  for (const auto& outcome :
       {outcome_of(exchange_result::timeout), http_answer(401), http_answer(500)}) {
    BOOST_TEST_CONTEXT("status " << outcome.status) {
      BOOST_TEST(message(outcome, errc::invalid_input, budget) == "DETAIL-TEXT");
      BOOST_TEST(message(outcome, errc::cancelled, budget) == "DETAIL-TEXT");
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
