// The writing thread of a job's output, and write(2) loops that never leave half a record behind.
#include "run/output_sink.hpp"

#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace promptpack::run {
namespace {

void write_fully(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "cannot write the output");
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

output_sink::output_sink(int fd, output_flush_policy policy) : fd_(fd), policy_(policy) {
  // Room for a full batch and the exchange that tops it: the buffers then rarely grow, and each
  // growth of a multi-megabyte string leaves its old block in the allocator's heap for good.
  const std::size_t usual = policy_.batch_bytes + policy_.batch_bytes / 2;
  waiting_.reserve(usual);
  writing_.reserve(usual);
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

void output_sink::write(std::string_view records) {
  if (records.empty()) return;
  std::unique_lock lock(mutex_);
  written_.wait(lock, [&] {
    return failure_ || waiting_.empty() ||
           waiting_.size() + records.size() <= policy_.max_waiting_bytes;
  });
  if (failure_) std::rethrow_exception(failure_);
  const bool first = waiting_.empty();
  if (first) oldest_waiting_ = std::chrono::steady_clock::now();
  waiting_.append(records);
  // An idle writer sleeps until records come, then until the oldest one's deadline: wake it for
  // the first record of a batch (to set that deadline) and for a full batch, not for each call.
  if (first || (waiting_.size() >= policy_.batch_bytes && !writing_now_)) work_.notify_one();
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
  std::unique_lock lock(mutex_);
  for (;;) {
    const auto due = [&] {
      return stopping_ || flushes_wanted_ > 0 || waiting_.size() >= policy_.batch_bytes ||
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
      written_.notify_all();
      if (stopping_) return;
      continue;
    }
    if (!due()) continue;  // woken for a record that arrived in an empty queue: its deadline next
    writing_.swap(waiting_);
    waiting_.clear();
    writing_now_ = true;
    written_.notify_all();  // room again for writers held back by max_waiting_bytes
    lock.unlock();
    std::exception_ptr failed;
    try {
      write_fully(fd_, writing_);
    } catch (...) {
      failed = std::current_exception();
    }
    lock.lock();
    writing_now_ = false;
    if (failed && !failure_) failure_ = failed;
    written_.notify_all();
  }
}

}  // namespace promptpack::run
