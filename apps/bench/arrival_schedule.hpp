// When the prompts of an open-loop load arrive: Poisson, or burstier or smoother (gamma gaps).
#pragma once

#include <cstdint>
#include <random>

namespace promptpack::bench {

/// Gaps between arrivals are gamma-distributed with mean 1/rate and shape `burstiness`, as in
/// `vllm bench`: 1 gives Poisson arrivals, below 1 bursts, above 1 a steadier stream. Seeded, so a
/// run can be repeated exactly.
class arrival_schedule {
 public:
  arrival_schedule(double prompts_per_s, double burstiness, std::uint64_t seed = 1);
  /// Seconds until the next arrival.
  double next_gap_s() { return gap_(rng_); }

 private:
  std::mt19937_64 rng_;
  std::gamma_distribution<double> gap_;
};

}  // namespace promptpack::bench
