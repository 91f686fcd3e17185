// Counters of a running job, read by the progress line and the summary.
#pragma once

#include <promptpack/client_stats.hpp>
#include <promptpack/error.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace promptpack::run {

struct job_stats {
  std::atomic<std::uint64_t> succeeded{0};
  std::atomic<std::uint64_t> skipped{0};     ///< already had a record (--resume)
  std::atomic<std::uint64_t> duplicates{0};  ///< lines repeating a custom_id
  std::atomic<std::uint64_t> unfinished{
      0};  ///< cancelled at a stop signal: no record, for --resume
  std::array<std::atomic<std::uint64_t>, 9> failed_by_type{};  ///< indexed by errc

  std::uint64_t failed() const;
  std::uint64_t done() const { return succeeded.load(std::memory_order_relaxed) + failed(); }
  void count_error(errc type) {
    failed_by_type[static_cast<std::size_t>(type)].fetch_add(1, std::memory_order_relaxed);
  }
};

/// One progress line: done/total ("/~N" when the total is an estimate), rate, errors and ETA
/// (total 0 means unknown), and with
/// `--batch-size auto` the batch size and why.
std::string progress_line(const job_stats& stats, std::uint64_t total, bool total_estimated,
                          std::chrono::duration<double> elapsed, std::string_view batch_size = {});

/// The end-of-job summary, several lines.
std::string summary_text(const job_stats& stats, const client_stats& client,
                         std::chrono::duration<double> elapsed);

}  // namespace promptpack::run
