// The pending-prompt window (max_pending): blocking and asynchronous admission, and the drain.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

namespace promptpack::detail {

/// Counts prompts accepted but not completed. Not locked itself: the scheduler's mutex guards
/// it, and its condition variables wait on that mutex.
class admission {
 public:
  using admit_handler = std::function<void(bool admitted)>;

  explicit admission(std::size_t max_pending) : max_pending_(max_pending) {}

  /// Blocks (on `lock`, the scheduler's) until `count` more prompts fit. False once closed.
  template <class Lock>
  bool acquire(Lock& lock, std::size_t count) {
    room_cv_.wait(lock, [&] { return closed_ || (waiting_.empty() && fits(count)); });
    if (closed_) return false;
    pending_ += count;
    return true;
  }

  /// Admits now, refuses now (once closed), or keeps `admit` (moved from) until release() or
  /// close() hands it back. `admit` is never called here.
  enum class verdict : std::uint8_t { admitted, refused, waiting };
  verdict acquire_async(std::size_t count, admit_handler& admit);

  /// Prompts completed: frees room; the waiting admissions that now fit go to `admitted`.
  void release(std::size_t count, std::vector<admit_handler>& admitted);

  /// Accepts nothing more; waiting admissions go to `refused`.
  void close(std::vector<admit_handler>& refused);

  /// Blocks (on `lock`) until every accepted prompt has been released.
  template <class Lock>
  void wait_idle(Lock& lock) {
    idle_cv_.wait(lock, [&] { return pending_ == 0; });
  }

  bool closed() const noexcept { return closed_; }
  std::uint64_t pending() const noexcept { return pending_; }

 private:
  // A request larger than the whole window is let in alone, rather than never.
  bool fits(std::size_t count) const noexcept {
    return pending_ + count <= max_pending_ || pending_ == 0;
  }

  std::size_t max_pending_;
  std::size_t pending_ = 0;
  bool closed_ = false;
  std::deque<std::pair<std::size_t, admit_handler>> waiting_;
  std::condition_variable room_cv_;
  std::condition_variable idle_cv_;
};

}  // namespace promptpack::detail
