// Window rates from count samples, and the stability verdict over them.
#include "bench/measurement_windows.hpp"

#include <algorithm>

namespace promptpack::bench {
namespace {

std::uint64_t count_at(const std::vector<count_sample>& samples, double at_s) {
  const auto after = std::upper_bound(samples.begin(), samples.end(), at_s,
                                      [](double t, const count_sample& s) { return t < s.at_s; });
  return after == samples.begin() ? 0 : std::prev(after)->count;
}

}  // namespace

std::vector<double> window_rates(const std::vector<count_sample>& samples, double span_s,
                                 int windows, double shortest_window_s) {
  const int fitting = static_cast<int>(span_s / shortest_window_s);
  windows = std::min(windows, fitting);
  if (windows < 2) return {};
  const double width = span_s / windows;
  std::vector<double> rates;
  for (int w = 0; w < windows; ++w) {
    const std::uint64_t begin = count_at(samples, w * width);
    const std::uint64_t end = count_at(samples, (w + 1) * width);
    rates.push_back(static_cast<double>(end - begin) / width);
  }
  return rates;
}

bool windows_disagree(const std::vector<double>& rates, double tolerance) {
  if (rates.size() < 2) return false;
  std::vector<double> sorted = rates;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  return median <= 0 || (sorted.back() - sorted.front()) > tolerance * median;
}

}  // namespace promptpack::bench
