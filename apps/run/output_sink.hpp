// The output file of a job: appends whole records with write(2), from any thread.
#pragma once

#include <mutex>
#include <string>
#include <string_view>

namespace promptpack::run {

/// Appends and hands each write to the kernel at once (crash-safe against kill -9: only records
/// already written survive, and --resume reruns the rest). Thread-safe.
class output_sink {
 public:
  explicit output_sink(int fd) : fd_(fd) {}

  /// Writes whole records. Throws std::system_error on a write failure (disk full, closed pipe).
  void write(std::string_view records);

 private:
  int fd_;
  std::mutex mutex_;
};

}  // namespace promptpack::run
