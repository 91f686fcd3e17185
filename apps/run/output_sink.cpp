// The writing thread of a job's output, and write(2) loops that never leave half a record behind.
#include "run/output_sink.hpp"

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace promptpack::run {
namespace {

// Linux's UIO_MAXIOV: the most pieces one writev(2) takes.
constexpr std::size_t max_pieces = 1024;
// Written buffers kept for callers: more than the threads that write ever hold at once.
constexpr std::size_t max_spare_buffers = 64;

// Writes every buffer, in order, in as few writev(2) calls as the kernel allows.
void write_fully(int fd, const std::vector<std::string>& buffers, std::vector<iovec>& pieces) {
  pieces.clear();
  for (const auto& b : buffers) pieces.push_back({const_cast<char*>(b.data()), b.size()});
  std::size_t first = 0;
  while (first < pieces.size()) {
    const auto count = static_cast<int>(std::min(pieces.size() - first, max_pieces));
    const ssize_t n = ::writev(fd, pieces.data() + first, count);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "cannot write the output");
    }
    // Past the pieces written whole, then into the one written in part, if any.
    auto done = static_cast<std::size_t>(n);
    while (first < pieces.size() && done >= pieces[first].iov_len) done -= pieces[first++].iov_len;
    if (done > 0) {
      pieces[first].iov_base = static_cast<char*>(pieces[first].iov_base) + done;
      pieces[first].iov_len -= done;
    }
  }
}

}  // namespace

output_sink::output_sink(int fd, output_flush_policy policy) : fd_(fd), policy_(policy) {
  writer_ = std::thread([this] { writer_loop(); });
}

output_sink::~output_sink() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;  // the writer still writes what waits before it stops
  }
  work_.notify_one();
  writer_.join();
}

void output_sink::write(std::string& records) {
  if (records.empty()) return;
  std::unique_lock lock(mutex_);
  written_.wait(lock, [&] {
    return failure_ || waiting_.empty() ||
           waiting_bytes_ + records.size() <= policy_.max_waiting_bytes;
  });
  if (failure_) std::rethrow_exception(failure_);
  const bool first = waiting_.empty();
  if (first) oldest_waiting_ = std::chrono::steady_clock::now();
  waiting_bytes_ += records.size();
  waiting_.push_back(std::move(records));
  records.clear();  // a moved-from string is only promised to be valid
  if (!spare_.empty()) {
    records.swap(spare_.back());
    spare_.pop_back();
  }
  // An idle writer sleeps until records come, then until the oldest one's deadline: wake it for
  // the first record of a batch (to set that deadline) and for a full batch, not for each call.
  if (first || (waiting_bytes_ >= policy_.batch_bytes && !writing_now_)) work_.notify_one();
}

void output_sink::flush() {
  std::unique_lock lock(mutex_);
  ++flushes_wanted_;
  work_.notify_one();
  written_.wait(lock, [&] { return failure_ || (waiting_.empty() && !writing_now_); });
  --flushes_wanted_;
  if (failure_) std::rethrow_exception(failure_);
}

void output_sink::writer_loop() {
  std::vector<iovec> pieces;
  std::unique_lock lock(mutex_);
  for (;;) {
    const auto due = [&] {
      return stopping_ || flushes_wanted_ > 0 || waiting_bytes_ >= policy_.batch_bytes ||
             (!waiting_.empty() &&
              std::chrono::steady_clock::now() >= oldest_waiting_ + policy_.max_delay);
    };
    if (waiting_.empty()) {
      work_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
    } else {
      work_.wait_until(lock, oldest_waiting_ + policy_.max_delay, due);
    }
    if (waiting_.empty() || failure_) {
      waiting_.clear();  // after a failure, nothing more reaches the file
      waiting_bytes_ = 0;
      written_.notify_all();
      if (stopping_) return;
      continue;
    }
    if (!due()) continue;  // woken for a record that arrived in an empty queue: its deadline next
    writing_.swap(waiting_);
    waiting_bytes_ = 0;
    writing_now_ = true;
    written_.notify_all();  // room again for writers held back by max_waiting_bytes
    lock.unlock();
    std::exception_ptr failed;
    try {
      write_fully(fd_, writing_, pieces);
    } catch (...) {
      failed = std::current_exception();
    }
    lock.lock();
    // Back to the callers, emptied: their next records need no allocation. A buffer grown past a
    // batch (a rare huge record), or one more than callers need, is let go.
    for (auto& buffer : writing_) {
      if (buffer.capacity() > policy_.batch_bytes || spare_.size() >= max_spare_buffers) continue;
      buffer.clear();
      spare_.push_back(std::move(buffer));
    }
    writing_.clear();
    writing_now_ = false;
    if (failed && !failure_) failure_ = failed;
    written_.notify_all();
  }
}

}  // namespace promptpack::run
