// Prints benchmark results: the readable table, the sweep table, and the same figures as JSON.
#pragma once

#include "bench/bench_result.hpp"

#include <ostream>
#include <string>
#include <vector>

namespace promptpack::bench {

/// What the run was, for the report's heading and the JSON.
struct run_description {
  std::string endpoint;  ///< the api_base, or embedded_endpoint_name()
  bool closed_loop = true;
  std::size_t batch_size = 0;
  bool adaptive = false;  ///< --batch-size auto
  std::size_t connections = 0;
  double warmup_s = 0;
  double prompt_bytes = 0;  ///< mean prompt length
};

/// One row of a sweep: the swept value and its result.
struct sweep_row {
  double value = 0;
  bench_result result;
};

/// The embedded endpoint's name in the report: the latency model it runs (the reference server's
/// `--server-*` settings), or that it answers at once and which flags make it GPU-like.
std::string embedded_endpoint_name(double latency_ms, double per_prompt_us, double per_token_us,
                                   std::size_t max_batch);

void print_table(std::ostream& out, const run_description& run, const bench_result& result);
/// "" when a measured prompt was answered (or none was sent); otherwise one line saying that
/// every prompt failed, how, and what to check.
std::string nothing_answered(const bench_result& result);
void print_sweep_table(std::ostream& out, const std::string& swept,
                       const std::vector<sweep_row>& rows);

/// {"run": {...}, <the result's fields>} for one run; {"run", "sweep": name, "rows": [...]} for
/// a sweep.
std::string to_json(const run_description& run, const bench_result& result);
std::string to_json(const run_description& run, const std::string& swept,
                    const std::vector<sweep_row>& rows);

}  // namespace promptpack::bench
