// Counters of a client, as a snapshot that a progress line or a /metrics page can read.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace promptpack {

/// A point-in-time copy of the client's counters. Counters only grow; gauges go up and down.
struct client_stats {
  std::uint64_t prompts_submitted = 0;     ///< counter
  std::uint64_t prompts_succeeded = 0;     ///< counter
  std::uint64_t prompts_failed = 0;        ///< counter, every error type
  std::uint64_t requests_sent = 0;         ///< counter, exchanges written to an endpoint
  std::uint64_t prompts_sent = 0;          ///< counter, prompts in those exchanges (resends count)
  std::uint64_t requests_retried = 0;      ///< counter, exchanges that were sent again
  std::uint64_t batches_split = 0;         ///< counter, 413 splits and 4xx bisections
  std::uint64_t connects = 0;              ///< counter, TCP (and TLS) connections opened
  std::uint64_t bytes_sent = 0;            ///< counter, request body bytes
  std::uint64_t bytes_received = 0;        ///< counter, response body bytes
  std::uint64_t prompts_pending = 0;       ///< gauge, accepted and not yet completed
  std::uint64_t requests_in_flight = 0;    ///< gauge
  double latency_p50_ms = 0;               ///< exchange latency, median since start
  double latency_p99_ms = 0;               ///< exchange latency, 99th percentile since start
  std::uint64_t rate_limited_answers = 0;  ///< counter, 429s and 503s with Retry-After
  double rate_limit_wait_s = 0;  ///< counter, seconds endpoints were paused by rate limits
  /// adaptive_batch: each endpoint's batch size now and why ("settled at 768: ..."); else "".
  std::string batch_size_tuning;
  /// Counters of the requests sent by their number of prompts: [0] exactly 1, [i] from
  /// 2^(i-1) + 1 to 2^i (i = 1..12), [13] more than 4096. Their sum is requests_sent.
  std::array<std::uint64_t, 14> requests_by_prompts{};

  /// The index in requests_by_prompts of a request of `prompts` prompts (>= 1).
  static constexpr std::size_t size_class(std::size_t prompts) noexcept {
    std::size_t i = 0;
    while (i < 13 && (std::size_t{1} << i) < prompts) ++i;
    return i;
  }
};

}  // namespace promptpack
