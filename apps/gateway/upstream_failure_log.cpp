// Throttled lines for upstream failures: one a second, with the count of those left out.
#include "gateway/upstream_failure_log.hpp"

#include "text/terminal_text.hpp"

namespace promptpack::gateway {

std::string upstream_failure_log::line_for(const prompt_error& error, clock::time_point now) {
  const auto ticks = now.time_since_epoch().count();
  auto last = last_written_.load(std::memory_order_relaxed);
  const auto second = std::chrono::duration_cast<clock::duration>(std::chrono::seconds(1)).count();
  // One writer a second: whoever moves the mark forward writes; the others are counted.
  if ((last != 0 && ticks - last < second) ||
      !last_written_.compare_exchange_strong(last, ticks, std::memory_order_relaxed)) {
    suppressed_.fetch_add(1, std::memory_order_relaxed);
    return {};
  }
  const auto left_out = suppressed_.exchange(0, std::memory_order_relaxed);
  std::string line = "promptpack gateway: upstream failure (";
  line += to_string(error.type);
  if (error.http_status != 0) line += ", HTTP " + std::to_string(error.http_status);
  line += "): ";
  line += detail::escape_for_terminal(error.message);
  if (left_out > 0) line += " (and " + std::to_string(left_out) + " more since the last line)";
  line += '\n';
  return line;
}

std::string upstream_failure_log::unreported_line() {
  const auto left_out = suppressed_.exchange(0, std::memory_order_relaxed);
  if (left_out == 0) return {};
  return "promptpack gateway: " + std::to_string(left_out) + " more upstream failure" +
         (left_out == 1 ? "" : "s") + " since the last line\n";
}

}  // namespace promptpack::gateway
