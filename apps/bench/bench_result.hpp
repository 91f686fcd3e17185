// The figures of one benchmark run: counts, rates, latency quantiles, client CPU and stability.
#pragma once

#include <promptpack/error.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace promptpack::bench {

/// Failed prompts, one counter per promptpack::errc value (index = the enum's value).
using failures_by_type = std::array<std::uint64_t, 16>;

struct latency_ms {
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0, mean = 0;
};

struct bench_result {
  // What was measured: prompts submitted after the warm-up.
  std::uint64_t prompts_ok = 0;
  std::uint64_t prompts_failed = 0;
  failures_by_type failed_by_type{};
  std::uint64_t requests = 0;  ///< exchanges the client sent while measuring
  double elapsed_s = 0;        ///< from the end of the warm-up to the last measured result
  double prompts_per_s = 0;    ///< completed (ok or failed) per second
  double requests_per_s = 0;
  double mean_prompts_per_request = 0;
  latency_ms latency;  ///< submit (or scheduled arrival) to result, per prompt

  // Open loop only (rate_requested > 0).
  double rate_requested = 0;  ///< prompts/s asked for
  double rate_achieved = 0;   ///< prompts/s actually submitted
  double max_lag_ms = 0;      ///< how far submission fell behind the schedule at worst
  bool fell_behind = false;   ///< submitted under 99% of the requested rate

  // The client's own cost.
  double client_cpu_s = 0;             ///< user + system of this process while measuring
  double client_us_per_prompt = 0;     ///< client_cpu_s per completed prompt
  unsigned cores = 0;                  ///< processors this process could keep busy
  bool client_limited = false;         ///< the process used >= 85% of its cores: it was the limit
  bool cpu_includes_endpoint = false;  ///< the embedded endpoint ran in this process

  // Stability: the measured span in equal windows.
  std::vector<double> window_prompts_per_s;
  bool unstable = false;          ///< windows differ by more than 10% of their median
  bool interrupted = false;       ///< ended early by Ctrl-C
  std::string batch_size_tuning;  ///< `--batch-size auto`: the size it ended at, and why
};

}  // namespace promptpack::bench
