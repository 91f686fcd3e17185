// Drives one measured load through a client: closed loop, or open loop on an arrival schedule.
#pragma once

#include "bench/bench_result.hpp"
#include "bench/prompt_source.hpp"

#include <promptpack/client.hpp>

#include <cstdint>
#include <functional>

namespace promptpack::bench {

struct load_settings {
  std::uint64_t prompts = 0;  ///< prompts to measure; 0: measure for duration_s instead
  double duration_s = 10;
  double warmup_s = 1;                ///< sent first, and not measured
  double rate = 0;                    ///< open loop: prompts/s; 0: closed loop
  double burstiness = 1;              ///< open loop: gamma shape of the gaps (1: Poisson)
  std::size_t block_prompts = 256;    ///< prompts per submission (closed loop: one batch)
  std::size_t blocks_in_flight = 16;  ///< closed loop: submissions outstanding at once
  int windows = 5;                    ///< equal windows for the stability check
  bool cpu_includes_endpoint = false;
  /// Threads the load can keep busy (the client's I/O threads, the open loop's driver, an
  /// embedded endpoint's): the client is the limit when it keeps them all busy. 0: every core.
  unsigned busy_threads = 0;
};

/// Runs the load and measures it. `stop_requested` is polled: when it turns true (Ctrl-C), no
/// more prompts are sent, those in flight finish, and what was measured is returned with
/// `interrupted` set. The client must be fresh or idle, with max_pending large enough for
/// blocks_in_flight * block_prompts (closed loop) so that submitting never blocks.
bench_result run_load(client& client, const prompt_source& prompts, const load_settings& settings,
                      const std::function<bool()>& stop_requested);

}  // namespace promptpack::bench
