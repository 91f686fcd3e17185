// The output file of a job: records from any thread, written by one thread in large write(2)s.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace promptpack::run {

/// When an output_sink hands its records to the kernel.
struct output_flush_policy {
  /// Records are written once this many wait. A page-cache write of 1 MiB costs the kernel half of
  /// what the same bytes cost in the 20-30 KiB writes of one exchange's records (large folios).
  std::size_t batch_bytes = std::size_t{1} << 20;
  /// ...or once the oldest of them has waited this long, so that a slow job's records still
  /// appear at once and a crash or kill -9 loses only the last moments (--resume reruns them).
  std::chrono::milliseconds max_delay{20};
  /// Records that may wait at most; a thread that would exceed it waits for the writer (a slow
  /// disk slows the job instead of filling memory).
  std::size_t max_waiting_bytes = std::size_t{4} << 20;
};

/// Thread-safe. write() only queues the caller's buffer: the I/O threads that finish exchanges
/// never sleep on the file or copy their records again, and the kernel sees few, large writes
/// (writev(2) of the queued buffers). Whole records only: a write that stops short or is
/// interrupted is resumed, so a record is never torn except by a crash inside it.
class output_sink {
 public:
  explicit output_sink(int fd, output_flush_policy policy = {});
  /// Writes what is left (flush()), then stops the writing thread.
  ~output_sink();
  output_sink(const output_sink&) = delete;
  output_sink& operator=(const output_sink&) = delete;

  /// Queues whole records, taking the buffer rather than copying it: `records` comes back empty,
  /// holding the memory of a buffer already written (so a caller that reuses one buffer does not
  /// allocate once warm). Throws std::system_error once a write has failed (disk full, closed
  /// pipe): the records of that write and every later one are lost to the file, and --resume
  /// reruns their lines.
  void write(std::string& records);
  /// Returns once every record queued so far is in the kernel's hands; throws the write failure if
  /// there was one.
  void flush();

 private:
  void writer_loop();

  int fd_;
  output_flush_policy policy_;
  std::mutex mutex_;
  std::condition_variable work_;      // for the writer: a batch is full, a flush or the stop
  std::condition_variable written_;   // for the others: a write finished, room again
  std::vector<std::string> waiting_;  // buffers queued, not yet taken by the writer
  std::size_t waiting_bytes_ = 0;
  std::vector<std::string> writing_;  // what the writer holds, outside the lock
  std::vector<std::string> spare_;    // written buffers, emptied, for write() to hand back
  std::chrono::steady_clock::time_point oldest_waiting_;
  std::size_t flushes_wanted_ = 0;  // flush() calls waiting for everything to be written
  bool writing_now_ = false;
  bool stopping_ = false;
  std::exception_ptr failure_;
  std::thread writer_;
};

}  // namespace promptpack::run
