// Log-linear bucketing: the top bits of a value pick its bucket.
#include "client/latency_histogram.hpp"

#include <bit>

namespace promptpack::detail {

std::size_t latency_histogram::bucket_of(std::uint64_t us) noexcept {
  if (us < (1u << sub_bits)) return static_cast<std::size_t>(us);
  const int exponent = std::bit_width(us) - 1;  // >= sub_bits
  const auto mantissa = (us >> (exponent - sub_bits)) & ((1u << sub_bits) - 1);
  const auto bucket = (static_cast<std::size_t>(exponent - sub_bits + 1) << sub_bits) + mantissa;
  return bucket < bucket_count ? bucket : bucket_count - 1;
}

std::uint64_t latency_histogram::upper_edge(std::size_t bucket) noexcept {
  if (bucket < (1u << sub_bits)) return bucket + 1;
  const int exponent = static_cast<int>(bucket >> sub_bits) + sub_bits - 1;
  const std::uint64_t mantissa = bucket & ((1u << sub_bits) - 1);
  return ((1ULL << sub_bits) + mantissa + 1) << (exponent - sub_bits);
}

void latency_histogram::record(std::chrono::microseconds latency) noexcept {
  const auto us = static_cast<std::uint64_t>(latency.count() < 0 ? 0 : latency.count());
  buckets_[bucket_of(us)].fetch_add(1, std::memory_order_relaxed);
}

std::chrono::microseconds latency_histogram::quantile(double q) const noexcept {
  std::uint64_t total = 0;
  for (const auto& b : buckets_) total += b.load(std::memory_order_relaxed);
  if (total == 0) return std::chrono::microseconds(0);
  const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total - 1)) + 1;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= rank) return std::chrono::microseconds(upper_edge(i));
  }
  return std::chrono::microseconds(upper_edge(bucket_count - 1));
}

}  // namespace promptpack::detail
