// A cap on what a server holds at once (open connections, queued prompts): slots taken against
// a capacity, given back however their holder ends.
#pragma once

#include <atomic>
#include <cstddef>
#include <optional>
#include <utility>

namespace promptpack::server {

/// Holds `units` of a gate's capacity for as long as it lives, however its holder ends: on its
/// own, on an exception, or destroyed with the io_context when a server stops.
class capacity_slot {
 public:
  capacity_slot(capacity_slot&& other) noexcept
      : used_(std::exchange(other.used_, nullptr)), units_(other.units_) {}
  capacity_slot& operator=(capacity_slot&&) = delete;
  ~capacity_slot() {
    if (used_ != nullptr) used_->fetch_sub(units_, std::memory_order_relaxed);
  }

 private:
  friend class capacity_gate;
  capacity_slot(std::atomic<std::size_t>& used, std::size_t units) : used_(&used), units_(units) {}

  std::atomic<std::size_t>* used_;
  std::size_t units_;
};

/// Lets at most `capacity` units be held at once. Safe from any thread. It must outlive every
/// slot it hands out: declare it before the io_context whose handlers hold them.
class capacity_gate {
 public:
  explicit capacity_gate(std::size_t capacity) : capacity_(capacity) {}

  /// A slot of `units`, or nullopt when they would take the gate over its capacity.
  std::optional<capacity_slot> try_enter(std::size_t units = 1) {
    std::size_t used = used_.load(std::memory_order_relaxed);
    do {
      if (units > capacity_ || used > capacity_ - units) return std::nullopt;
    } while (!used_.compare_exchange_weak(used, used + units, std::memory_order_relaxed));
    return capacity_slot(used_, units);
  }
  std::size_t used() const noexcept { return used_.load(std::memory_order_relaxed); }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  std::size_t capacity_;
  std::atomic<std::size_t> used_{0};
};

}  // namespace promptpack::server
