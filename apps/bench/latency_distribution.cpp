// Bucket arithmetic of the latency histogram.
#include "bench/latency_distribution.hpp"

#include <bit>

namespace promptpack::bench {

std::size_t latency_distribution::bucket_of(std::uint64_t value) noexcept {
  if (value < sub_buckets) return static_cast<std::size_t>(value);
  const int exponent = std::bit_width(value) - 1;  // >= sub_bits
  const std::uint64_t sub = (value >> (exponent - sub_bits)) & (sub_buckets - 1);
  return static_cast<std::size_t>((exponent - sub_bits + 1) * sub_buckets + sub);
}

std::uint64_t latency_distribution::lower_edge(std::size_t bucket) noexcept {
  if (bucket < sub_buckets) return bucket;
  const int exponent = static_cast<int>(bucket / sub_buckets) + sub_bits - 1;
  const std::uint64_t sub = bucket % sub_buckets;
  return (sub_buckets + sub) << (exponent - sub_bits);
}

void latency_distribution::record(std::uint64_t nanoseconds, std::uint64_t count) noexcept {
  buckets_[bucket_of(nanoseconds)].fetch_add(count, std::memory_order_relaxed);
  count_.fetch_add(count, std::memory_order_relaxed);
  sum_.fetch_add(static_cast<double>(nanoseconds) * static_cast<double>(count),
                 std::memory_order_relaxed);
  std::uint64_t seen = max_.load(std::memory_order_relaxed);
  while (nanoseconds > seen &&
         !max_.compare_exchange_weak(seen, nanoseconds, std::memory_order_relaxed)) {
  }
}

double latency_distribution::quantile_ns(double q) const noexcept {
  const std::uint64_t total = count();
  if (total == 0) return 0;
  // The rank of the quantile, 1-based: q = 0.5 of 4 values is the 2nd.
  const auto rank =
      std::max<std::uint64_t>(1, static_cast<std::uint64_t>(q * static_cast<double>(total) + 0.5));
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < bucket_count; ++b) {
    seen += buckets_[b].load(std::memory_order_relaxed);
    if (seen >= rank) {
      const double low = static_cast<double>(lower_edge(b));
      const double high = b + 1 < bucket_count ? static_cast<double>(lower_edge(b + 1)) : low;
      // Never above the largest value seen: the top bucket's middle could be.
      return std::min((low + high) / 2, max_ns());
    }
  }
  return max_ns();
}

double latency_distribution::mean_ns() const noexcept {
  const std::uint64_t total = count();
  return total == 0 ? 0 : sum_.load(std::memory_order_relaxed) / static_cast<double>(total);
}

}  // namespace promptpack::bench
