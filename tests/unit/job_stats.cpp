// Tests for the job's progress line (with and without a known total, ETA) and end-of-job summary.
#include "run/job_stats.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace {

namespace run = promptpack::run;
using promptpack::errc;
using seconds = std::chrono::duration<double>;

// Counts `succeeded` successes and `count` errors of `type`.
void record(run::job_stats& stats, std::uint64_t succeeded, errc type = errc::timeout,
            int count = 0) {
  stats.succeeded += succeeded;
  for (int i = 0; i < count; ++i) stats.count_error(type);
}

std::string progress(std::uint64_t succeeded, std::uint64_t timeouts, std::uint64_t total,
                     double elapsed) {
  run::job_stats stats;
  record(stats, succeeded, errc::timeout, static_cast<int>(timeouts));
  return run::progress_line(stats, total, false, seconds(elapsed));
}

bool has_eta(const std::string& line) {
  return line.find("ETA") != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(job_stats)

BOOST_AUTO_TEST_CASE(counters) {
  run::job_stats stats;
  BOOST_TEST(stats.done() == 0u);
  record(stats, 5, errc::timeout, 2);
  record(stats, 0, errc::cancelled, 1);  // the last error type has a counter too
  record(stats, 0, errc::invalid_input, 1);
  BOOST_TEST(stats.failed() == 4u);
  BOOST_TEST(stats.done() == 9u);
}

BOOST_AUTO_TEST_CASE(progress_with_a_total) {
  BOOST_TEST(progress(20, 5, 100, 5.0) ==
             "promptpack run: 25/100 lines (25.0%)  5 prompts/s  5 errors  ETA 0:00:15");
  // Hours in the ETA: 999,900 lines left at 100 a second.
  BOOST_TEST(progress(100, 0, 1000000, 1.0) ==
             "promptpack run: 100/1000000 lines (0.0%)  100 prompts/s  0 errors  ETA 2:46:39");
}

BOOST_AUTO_TEST_CASE(an_estimated_total_says_so_and_never_shows_100_percent_early) {
  run::job_stats stats;
  record(stats, 50, errc::timeout, 0);
  BOOST_TEST(run::progress_line(stats, 200, true, seconds(1.0)) ==
             "promptpack run: 50/~200 lines (25.0%)  50 prompts/s  0 errors  ETA 0:00:03");
  record(stats, 160, errc::timeout, 0);  // the estimate was low: 210 done of "200"
  BOOST_TEST(run::progress_line(stats, 200, true, seconds(1.0)) ==
             "promptpack run: 210/~200 lines (99.9%)  210 prompts/s  0 errors");
}

BOOST_AUTO_TEST_CASE(progress_without_a_total_has_no_eta) {
  BOOST_TEST(progress(20, 5, 0, 5.0) == "promptpack run: 25 lines  5 prompts/s  5 errors");
  BOOST_TEST(progress(0, 0, 0, 0.0) == "promptpack run: 0 lines  0 prompts/s  0 errors");
}

BOOST_AUTO_TEST_CASE(no_eta_without_a_rate_or_when_done) {
  BOOST_TEST(progress(0, 0, 100, 3.0) ==
             "promptpack run: 0/100 lines (0.0%)  0 prompts/s  0 errors");
  BOOST_TEST(progress(10, 0, 100, 0.0) ==
             "promptpack run: 10/100 lines (10.0%)  0 prompts/s  0 errors");
  BOOST_TEST(progress(90, 10, 100, 2.0) ==
             "promptpack run: 100/100 lines (100.0%)  50 prompts/s  10 errors");
  BOOST_TEST(has_eta(progress(99, 0, 100, 2.0)));
}

BOOST_AUTO_TEST_CASE(summary_lists_failures_by_type) {
  run::job_stats stats;
  record(stats, 5, errc::timeout, 2);
  record(stats, 0, errc::http_status, 1);
  stats.skipped = 4;
  promptpack::client_stats client;
  client.requests_sent = 4;
  client.prompts_sent = 8;
  client.requests_retried = 1;
  client.prompts_succeeded = 5;
  client.prompts_failed = 3;
  client.latency_p50_ms = 1.5;
  client.latency_p99_ms = 9.75;
  BOOST_TEST(
      run::summary_text(stats, client, seconds(2.0)) ==
      "promptpack run: 8 lines in 2.00 s (4 prompts/s)\n"
      "  succeeded 5, failed 3 (http_status 1, timeout 2), skipped 4 already done\n"
      "  requests 4 (1 retried), mean 2.0 prompts/request, latency p50 1.5 ms, p99 9.8 ms\n");
}

BOOST_AUTO_TEST_CASE(summary_counts_repeated_custom_ids) {
  run::job_stats stats;
  record(stats, 3, errc::invalid_input, 2);
  stats.duplicates = 1;
  const std::string text = run::summary_text(stats, {}, seconds(1.0));
  BOOST_TEST(text.find("failed 2 (invalid_input 2), 1 repeating an earlier custom_id\n") !=
                 std::string::npos,
             text);
}

BOOST_AUTO_TEST_CASE(summary_without_failures) {
  run::job_stats stats;
  record(stats, 3);
  BOOST_TEST(
      run::summary_text(stats, {}, seconds(0.0)) ==
      "promptpack run: 3 lines in 0.00 s (0 prompts/s)\n"
      "  succeeded 3, failed 0\n"
      "  requests 0 (0 retried), mean 0.0 prompts/request, latency p50 0.0 ms, p99 0.0 ms\n");
}

BOOST_AUTO_TEST_CASE(summary_names_every_error_type) {
  run::job_stats stats;
  for (auto type : {errc::cancelled, errc::endpoint, errc::protocol, errc::tls, errc::connection,
                    errc::timeout, errc::http_status, errc::invalid_input}) {
    record(stats, 0, type, 1);
  }
  const std::string text = run::summary_text(stats, {}, seconds(1.0));
  BOOST_TEST(text.find("failed 8 (invalid_input 1, http_status 1, timeout 1, connection 1, tls 1, "
                       "protocol 1, endpoint 1, cancelled 1)\n") != std::string::npos,
             text);
}

BOOST_AUTO_TEST_SUITE_END()
