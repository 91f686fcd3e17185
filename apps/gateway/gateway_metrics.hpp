// The gateway's counters, gauges and histograms, rendered as a Prometheus /metrics page.
#pragma once

#include "gateway/prometheus_histogram.hpp"

#include <promptpack/client_stats.hpp>
#include <promptpack/error.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace promptpack::gateway {

/// The routes requests are counted by.
enum class gateway_route : std::uint8_t {
  chat_completions,
  completions,
  models,
  health,
  metrics,
  unknown,  ///< any other path
};
inline constexpr std::size_t gateway_route_count = 6;

/// The route's path, as /metrics labels it and the access log prints it ("other" for unknown).
std::string_view route_path(gateway_route route) noexcept;

/// Every figure of /metrics. Recording is wait-free from any thread; render() may run at any time.
class gateway_metrics {
 public:
  gateway_metrics();

  /// A request was read whole: it is in flight until request_finished().
  void request_started() noexcept;
  /// Its answer was sent with `status` (499: the caller hung up first), `latency` after it was
  /// read.
  void request_finished(gateway_route route, unsigned status,
                        std::chrono::steady_clock::duration latency) noexcept;
  /// Callers submitted `count` prompts.
  void prompts_submitted(std::size_t count) noexcept;
  /// A request's prompts were all answered (or failed) `latency` after they were submitted:
  /// batching wait and upstream exchange together.
  void upstream_answered(std::chrono::steady_clock::duration latency) noexcept;
  /// A prompt failed upstream with `type`.
  void upstream_failed(errc type) noexcept;

  /// Appends the Prometheus text exposition (format 0.0.4). `queue_depth`: prompts queued or in
  /// flight at the gateway; `upstream`: every client's counters, in the same order each time.
  void render(std::string& out, std::size_t queue_depth, const std::vector<client_stats>& upstream);

 private:
  static constexpr std::array<unsigned, 13> statuses{200, 400, 401, 404, 405, 413, 429,
                                                     431, 499, 500, 502, 503, 504};
  static constexpr std::size_t error_types = 9;  // errc values start at 1

  std::array<std::array<std::atomic<std::uint64_t>, statuses.size() + 1>, gateway_route_count>
      requests_{};  // the last column: any other status
  std::atomic<std::uint64_t> in_flight_{0};
  std::atomic<std::uint64_t> prompts_{0};
  std::array<std::atomic<std::uint64_t>, error_types> upstream_errors_{};
  prometheus_histogram request_seconds_;
  prometheus_histogram upstream_seconds_;
  prometheus_histogram prompts_per_request_;

  // The clients count their requests by size; each scrape adds what they sent since the last
  // one. The scrape's state, under its own lock.
  std::mutex render_mutex_;
  std::vector<client_stats> last_scrape_;
};

}  // namespace promptpack::gateway
