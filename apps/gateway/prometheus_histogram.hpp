// A Prometheus histogram with fixed bucket bounds: wait-free observations, text exposition.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace promptpack::gateway {

/// Counts observations into buckets with the given upper bounds (ascending; +Inf is implied).
/// observe() is wait-free and may run on any thread; append() reads a consistent-enough view
/// while observers run, as Prometheus scrapes do.
class prometheus_histogram {
 public:
  explicit prometheus_histogram(std::vector<double> upper_bounds);

  /// Records `count` observations of `value`.
  void observe(double value, std::uint64_t count = 1) noexcept;
  /// Records `count` observations whose values were counted elsewhere in a bucket ending at
  /// `bucket_end` (one of this histogram's bounds, or above the last), and their sum apart.
  void add_counted(double bucket_end, std::uint64_t count, double sum) noexcept;
  /// Appends NAME_bucket{le="..."} (cumulative), NAME_sum and NAME_count lines.
  void append(std::string& out, std::string_view name) const;

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]>
      buckets_;  // one per bound, then +Inf; not cumulative
  std::atomic<double> sum_{0};
};

/// The shortest text that reads back as `value`, as Prometheus writes numbers.
std::string prometheus_number(double value);

}  // namespace promptpack::gateway
