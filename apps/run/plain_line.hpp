// The common input line, {"custom_id": "...", "prompt": "..."}, read without a JSON parser.
#pragma once

#include <promptpack/protocol/plain_json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace promptpack::run {

/// A plain line's two strings. custom_id is a view into the line (it has no escapes, so its JSON
/// text between the quotes is its value); the prompt too, or into the unescaped buffer when it
/// has escapes.
struct plain_line {
  std::string_view custom_id;  ///< empty and has_custom_id false when the line has none
  bool has_custom_id = false;
  std::string_view prompt;
  /// The prompt is its JSON text: no escapes, no control byte, valid UTF-8
  /// (prompt_bytes::json_safe).
  bool prompt_json_safe = false;
};

/// Reads `line` when it is exactly one object whose members are a string "prompt" and at most one
/// string "custom_id" (either order, JSON whitespace anywhere), the custom_id with no backslash
/// and no control byte, the prompt with no control byte, and valid UTF-8. A prompt with escapes
/// is unescaped into `unescaped` (cleared first). Returns false for every other line, well-formed
/// or not: the full parser then decides, so this path never reports an error and never accepts
/// what the parser refuses. `text_class`, when given, is classify_plain_text(line), found already.
bool read_plain_line(std::string_view line, plain_line& out, std::string& unescaped,
                     std::optional<plain_text_class> text_class = {});

}  // namespace promptpack::run
