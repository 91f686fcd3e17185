// Splits a measured span into equal windows and says whether their rates agree (stability).
#pragma once

#include <cstdint>
#include <vector>

namespace promptpack::bench {

/// A running count read at a moment, seconds from the start of the measurement.
struct count_sample {
  double at_s = 0;
  std::uint64_t count = 0;
};

/// The rate in each of `windows` equal windows of [0, span_s], from samples taken in time order
/// (the count at a moment is the last sample at or before it). Fewer windows when each would be
/// shorter than `shortest_window_s`, and none when not even two fit: too short to judge.
std::vector<double> window_rates(const std::vector<count_sample>& samples, double span_s,
                                 int windows, double shortest_window_s = 0.05);

/// True when the windows' rates differ by more than `tolerance` (0.10: 10%) of their median, as
/// h2load and perf_analyzer flag an unstable measurement.
bool windows_disagree(const std::vector<double>& rates, double tolerance = 0.10);

}  // namespace promptpack::bench
