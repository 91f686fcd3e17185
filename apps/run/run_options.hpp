// Everything `promptpack run` is told on its command line.
#pragma once

#include <promptpack/client_config.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace promptpack::run {

/// Polled while the job runs: 0, or the number of the signal (SIGINT, SIGTERM) that asked it to
/// stop.
using stop_check = std::function<int()>;

struct run_options {
  std::string input = "-";        ///< a file, or - for stdin
  std::string output = "-";       ///< a file, or - for stdout
  client_config client;           ///< endpoints, model, params, batching, retries, TLS
  bool resume = false;            ///< continue an interrupted job's output
  bool retry_errors = false;      ///< with resume: drop earlier error records, rerun their lines
  bool overwrite = false;         ///< start an existing output over
  bool ordered = false;           ///< records in input order (bounded reorder buffer)
  std::uint64_t shard_index = 0;  ///< process lines whose 0-based index mod shard_count is this
  std::uint64_t shard_count = 1;
  bool quiet = false;                      ///< no progress and no summary
  std::size_t max_line_bytes = 16u << 20;  ///< longer lines get an invalid_input record
  std::size_t block_lines = 4096;          ///< lines per submission block
  double progress_interval_s = 0;          ///< 0: 0.5 s on a terminal, 5 s otherwise
  stop_check stop_requested = [] { return 0; };
  double grace_period_s = 30;  ///< after a stop signal: how long requests in flight may finish
};

}  // namespace promptpack::run
