// Swaps outputs that echo the API key for redacted copies; the rest stay views into the answer.
#include "client/redacted_outputs.hpp"

#include <algorithm>

namespace promptpack::detail {

void redacted_outputs::redact(std::span<bulk_result> results, const secret_redactor& key) {
  texts_.clear();
  output_lists_.clear();
  for (auto& result : results) {
    const auto holds_key = [&key](std::string_view output) { return key.found_in(output); };
    if (std::none_of(result.outputs.begin(), result.outputs.end(), holds_key)) continue;
    auto& outputs = output_lists_.emplace_back(result.outputs.begin(), result.outputs.end());
    for (auto& output : outputs) {
      if (holds_key(output)) output = texts_.emplace_back(key.redact(output));
    }
    result.outputs = outputs;
    result.outputs_json_safe = false;  // the redaction's own text is not vouched for
  }
}

}  // namespace promptpack::detail
