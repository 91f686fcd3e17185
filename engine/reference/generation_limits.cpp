// Checks max_tokens and n against the server's limits, so that no request makes the reference
// model generate (or the latency model wait) without bound.
#include "reference/generation_limits.hpp"

#include <string_view>

namespace promptpack::reference {
namespace {

bool within_limit(std::string_view name, int value, unsigned limit, std::string_view flag,
                  std::string& reason) {
  if (static_cast<long long>(value) <= static_cast<long long>(limit)) return true;
  reason = std::string(name) + " " + std::to_string(value) + " is above this server's limit of " +
           std::to_string(limit) + " (serve " + std::string(flag) + ")";
  return false;
}

}  // namespace

bool within_generation_limits(const generation_params& params, const reference_config& config,
                              std::string& reason) {
  return within_limit("max_tokens", params.max_tokens, config.max_tokens_limit,
                      "--max-tokens-limit", reason) &&
         within_limit("n", params.n, config.max_n, "--max-n", reason);
}

}  // namespace promptpack::reference
