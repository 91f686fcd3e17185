// Bucketed counts with atomics, rendered in the Prometheus text format.
#include "gateway/prometheus_histogram.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

namespace promptpack::gateway {

prometheus_histogram::prometheus_histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(upper_bounds_.size() + 1)) {}

void prometheus_histogram::observe(double value, std::uint64_t count) noexcept {
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin());
  buckets_[bucket].fetch_add(count, std::memory_order_relaxed);
  sum_.fetch_add(value * static_cast<double>(count), std::memory_order_relaxed);
}

void prometheus_histogram::add_counted(double bucket_end, std::uint64_t count,
                                       double sum) noexcept {
  observe(bucket_end, count);
  sum_.fetch_add(sum - bucket_end * static_cast<double>(count), std::memory_order_relaxed);
}

void prometheus_histogram::append(std::string& out, std::string_view name) const {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out.append(name).append("_bucket{le=\"");
    out += i < upper_bounds_.size() ? prometheus_number(upper_bounds_[i]) : "+Inf";
    out.append("\"} ").append(std::to_string(cumulative)).push_back('\n');
  }
  out.append(name).append("_sum ").append(prometheus_number(sum_.load(std::memory_order_relaxed)));
  out.push_back('\n');
  // _count is the +Inf bucket, as Prometheus requires, even when a scrape races an observation.
  out.append(name).append("_count ").append(std::to_string(cumulative)).push_back('\n');
}

std::string prometheus_number(double value) {
  char buffer[32];
  const char* end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  return std::string(static_cast<const char*>(buffer), end);
}

}  // namespace promptpack::gateway
