// A lock-free log-linear histogram of per-prompt latencies, fine enough for p99.9 (HDR-style).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace promptpack::bench {

/// Values are nanoseconds. Below 64 ns each value has its own bucket; above, each power of two is
/// cut into 64 buckets, so a quantile is within 1.6% of the true value. record() is wait-free,
/// so the client's I/O threads record straight into it; read it once they are done.
class latency_distribution {
 public:
  void record(std::uint64_t nanoseconds, std::uint64_t count = 1) noexcept;
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  /// q in [0, 1]; the middle of the bucket holding it; 0 when empty.
  double quantile_ns(double q) const noexcept;
  double max_ns() const noexcept {
    return static_cast<double>(max_.load(std::memory_order_relaxed));
  }
  double mean_ns() const noexcept;

 private:
  static constexpr int sub_bits = 6;
  static constexpr std::uint64_t sub_buckets = 1u << sub_bits;
  static constexpr std::size_t bucket_count = (64 - sub_bits + 1) * sub_buckets;
  static std::size_t bucket_of(std::uint64_t value) noexcept;
  static std::uint64_t lower_edge(std::size_t bucket) noexcept;

  std::array<std::atomic<std::uint64_t>, bucket_count> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> max_{0};
  std::atomic<double> sum_{0};
};

}  // namespace promptpack::bench
