// --access-log: one line per request, with nothing of its prompts, answers or keys.
#pragma once

#include "gateway/gateway_metrics.hpp"

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace promptpack::gateway {

/// What an access-log line tells of one request.
struct access_record {
  std::chrono::system_clock::time_point at;  ///< when the answer was sent
  std::string_view method;                   ///< "-" when the request line was never read whole
  gateway_route route = gateway_route::unknown;
  unsigned status = 0;
  std::size_t prompts = 0;
  std::chrono::steady_clock::duration latency{};
};

/// `2024-05-01T12:00:00.123Z POST /v1/chat/completions 200 prompts=1 latency_ms=2.41`, with a
/// line end. The path is the route's (unknown paths are "other"): a caller's path could carry
/// a key in its query, or bytes meant for a terminal.
std::string access_log_line(const access_record& record);

/// Writes `line` (an access-log line, or an upstream failure) to stderr in one call, so that
/// lines of requests served on other threads do not interleave.
void write_log_line(const std::string& line);

}  // namespace promptpack::gateway
