// The common input line, {"custom_id": "...", "prompt": "..."} with no escapes, read without a
// JSON parser.
#pragma once

#include <string_view>

namespace promptpack::run {

/// A plain line's two strings, as views into the line: with no escapes, the JSON text of a
/// string between its quotes is its value.
struct plain_line {
  std::string_view custom_id;  ///< empty and has_custom_id false when the line has none
  bool has_custom_id = false;
  std::string_view prompt;
};

/// Reads `line` when it is exactly one object whose members are a string "prompt" and at most one
/// string "custom_id" (either order, JSON whitespace anywhere), each with no backslash, no control
/// byte and valid UTF-8. Returns false for every other line, well-formed or not: the full parser
/// then decides, so this path never reports an error and never accepts what the parser refuses.
bool read_plain_line(std::string_view line, plain_line& out) noexcept;

}  // namespace promptpack::run
