// `promptpack run`'s engine: reads JSONL lines into blocks, submits them in bulk, writes records.
#pragma once

#include "run/line_reader.hpp"
#include "run/resume_state.hpp"
#include "run/run_options.hpp"

#include <memory>

namespace promptpack::run {

/// Runs one job to the end. Memory is bounded by the window of blocks in flight, whatever the
/// input's size. Returns the exit status of PROTOCOL.md section 3 (0, 1, or 2 when the output
/// could not be written), or 128 + the signal when options.stop_requested ended it early: reading
/// stops, the lines already read finish within options.grace_period_s (their records are
/// written), and the rest is left, without records, for --resume.
int run_batch_job(const run_options& options, int input_fd, int output_fd, resume_state* resume,
                  line_count expected_lines);

}  // namespace promptpack::run
