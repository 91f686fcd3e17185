// The subcommands of the promptpack CLI; each adds itself to the root CLI11 app.
#pragma once

#include <CLI/CLI.hpp>

namespace promptpack::cli {

/// Exit codes shared by every subcommand (PROTOCOL.md section 3).
enum exit_code : int { exit_ok = 0, exit_some_failed = 1, exit_usage = 2 };

/// `promptpack serve`: the reference endpoint. Sets `exit_status` when it has run.
void add_serve_command(CLI::App& root, int& exit_status);
/// `promptpack complete`: one completion, printed as an OpenAI chat.completion.
void add_complete_command(CLI::App& root, int& exit_status);
/// `promptpack run`: the JSONL batch job.
void add_run_command(CLI::App& root, int& exit_status);
/// `promptpack bench`: throughput and latency of an endpoint, or a sweep.
void add_bench_command(CLI::App& root, int& exit_status);
/// `promptpack gateway`: an OpenAI-compatible server that batches its callers upstream.
void add_gateway_command(CLI::App& root, int& exit_status);

}  // namespace promptpack::cli
