// The gamma gap distribution behind arrival_schedule.
#include "bench/arrival_schedule.hpp"

#include <stdexcept>

namespace promptpack::bench {
namespace {

// Checked before the distribution is built: gamma with a shape or scale <= 0 is undefined.
std::gamma_distribution<double> gamma_gaps(double prompts_per_s, double burstiness) {
  if (!(prompts_per_s > 0)) throw std::invalid_argument("--rate must be above 0 prompts/s");
  if (!(burstiness > 0)) throw std::invalid_argument("--burstiness must be above 0");
  return std::gamma_distribution<double>(burstiness, 1.0 / (prompts_per_s * burstiness));
}

}  // namespace

arrival_schedule::arrival_schedule(double prompts_per_s, double burstiness, std::uint64_t seed)
    : rng_(seed), gap_(gamma_gaps(prompts_per_s, burstiness)) {}

}  // namespace promptpack::bench
