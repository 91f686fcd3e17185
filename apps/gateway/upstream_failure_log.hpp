// The operator's view of upstream failures: full details on stderr, at most one line a second.
#pragma once

#include <promptpack/error.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace promptpack::gateway {

/// Callers get an upstream failure's type and status only (its message may name internal hosts,
/// ports or paths); the details go here. A failing endpoint fails every caller at once, so lines
/// are throttled to one a second, each saying how many failures it stands for. Thread-safe.
class upstream_failure_log {
 public:
  using clock = std::chrono::steady_clock;

  /// The line to write for this failure now, or empty when another was written within the
  /// second (this one is counted in the next).
  std::string line_for(const prompt_error& error, clock::time_point now);
  /// The line for failures counted but not yet written (the end of a burst), or empty when there
  /// are none; the gateway writes it as it stops, so that no failure goes unreported.
  std::string unreported_line();

 private:
  std::atomic<clock::rep> last_written_{0};  // steady ticks; 0: never
  std::atomic<std::uint64_t> suppressed_{0};
};

}  // namespace promptpack::gateway
