// A bulk_sink for tests that counts what a client delivers: each index, each echo, each
// on_complete().
#pragma once

#include <promptpack/completion.hpp>

#include <atomic>
#include <cstddef>
#include <future>
#include <span>
#include <string>
#include <vector>

namespace promptpack::test {

/// Counts how often each index arrives, how many results are the echo of their prompt, and how
/// often on_complete() comes. The client's threads only count (Boost.Test is not thread-safe);
/// the test thread checks after wait().
class counting_sink final : public bulk_sink {
 public:
  /// `prompts` are the bulk's, and must outlive the sink.
  explicit counting_sink(const std::vector<std::string>& prompts);

  void on_results(std::span<const bulk_result> results) override;
  void on_complete() override;

  /// Waits (at most client_hang_guard) for on_complete(); false if it never came.
  bool wait();
  /// Test failures unless on_complete() came once and after every result, and every index came
  /// once with the echo of its prompt (the first error, if any, is named).
  void check_each_echoed_once() const;

 private:
  const std::vector<std::string>& prompts_;
  std::vector<std::atomic<int>> counts_;
  std::atomic<std::size_t> echoed_{0};
  std::atomic<int> bad_index_{0};
  std::atomic<int> completes_{0};
  std::atomic<bool> completed_{false};
  std::atomic<int> late_results_{0};
  std::atomic<bool> error_seen_{false};
  std::string first_error_;  // written once, by whichever thread sees the first error
  std::promise<void> done_;
  std::future<void> done_future_ = done_.get_future();
};

}  // namespace promptpack::test
