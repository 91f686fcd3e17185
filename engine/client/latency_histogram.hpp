// A lock-free log-linear histogram of exchange latencies, for p50/p99 without storing samples.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace promptpack::detail {

/// Buckets are 1/8 of a power of two wide (at most 12.5% relative error) from 1 us to ~4.8 h.
/// record() is wait-free; quantile() reads a consistent-enough view while writers run.
class latency_histogram {
 public:
  void record(std::chrono::microseconds latency) noexcept;
  /// q in [0, 1]; 0 when nothing was recorded. The upper edge of the bucket holding the quantile.
  std::chrono::microseconds quantile(double q) const noexcept;

 private:
  static constexpr int sub_bits = 3;
  static constexpr int exponents = 32;
  static constexpr std::size_t bucket_count = exponents << sub_bits;
  static std::size_t bucket_of(std::uint64_t us) noexcept;
  static std::uint64_t upper_edge(std::size_t bucket) noexcept;

  std::array<std::atomic<std::uint64_t>, bucket_count> buckets_{};
};

}  // namespace promptpack::detail
