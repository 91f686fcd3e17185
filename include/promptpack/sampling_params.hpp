// The per-request sampling parameters that travel in "params" beside the prompts.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace promptpack {

/// Sampling parameters. The defaults are the seed document's example (32, 0.7, 1.0, 40).
/// Only prompts that share the model and every field here are packed into one request.
struct sampling_params {
  int max_tokens = 32;       ///< tokens (the reference server counts words)
  double temperature = 0.7;  ///< softmax temperature, >= 0
  double top_p = 1.0;        ///< nucleus mass, in (0, 1]
  int top_k = 40;            ///< candidates kept per step, >= 1

  /// Further parameters passed verbatim into "params" (`stop`, `seed`, `n`, ...):
  /// name and raw JSON value text, for example {"stop", "[\"\\n\"]"} or {"seed", "7"}.
  std::vector<std::pair<std::string, std::string>> extra;

  friend bool operator==(const sampling_params&, const sampling_params&) = default;
};

}  // namespace promptpack
