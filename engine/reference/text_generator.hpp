// The reference model's deterministic generators: text, echo and fixed answers.
#pragma once

#include "reference/reference_config.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace promptpack::reference {

/// The sampling parameters of one request, as the reference model reads them.
struct generation_params {
  int max_tokens = 32;
  double temperature = 0.7;
  double top_p = 1.0;
  int top_k = 40;
  std::optional<std::int64_t> seed;  ///< mixed into every prompt's randomness when given
  int n = 1;                         ///< outputs per prompt
};

/// Writes the outputs for one prompt as JSON strings separated by commas (no brackets) to `out`.
/// The same (prompt, params) always gives the same bytes. Cheap per call: the rank distribution
/// for (temperature, top_k, top_p) is computed by the caller once per request.
class text_generator {
 public:
  text_generator(generator_kind kind, const generation_params& params);

  void append_outputs(std::string& out, std::string_view prompt) const;

 private:
  void append_text(std::string& out, std::string_view prompt, int sample) const;

  generator_kind kind_;
  generation_params params_;
  // Cumulative probability of choosing the candidate of each rank (after temperature, top_k and
  // top_p); size is the number of candidates that survive truncation.
  std::vector<double> cumulative_;
};

}  // namespace promptpack::reference
