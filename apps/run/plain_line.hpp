// The common input line, {"custom_id": "...", "prompt": "..."}, read without a JSON parser.
#pragma once

#include "run/job_line.hpp"

#include <promptpack/protocol/plain_json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace promptpack::run {

/// Reads `line` when it is exactly one object whose members are a string "prompt" and at most one
/// string "custom_id" (either order, JSON whitespace anywhere), the custom_id with no backslash
/// and no control byte, the prompt with no control byte, and valid UTF-8. A prompt with escapes
/// is unescaped into `unescaped` (cleared first). Returns false for every other line, well-formed
/// or not: the full parser then decides, so this path never reports an error and never accepts
/// what the parser refuses. `text_class`, when given, is classify_plain_text(line), found already.
///
/// Sets `out`'s custom_id (a view into the line: it has no escapes, so its JSON text between the
/// quotes is its value) and has_custom_id when the line has one, its prompt (a view into the
/// line, or into `unescaped` when it has escapes), prompt_json_safe, and plain. `out` must come
/// reset (job_line::reset()); after a false return, reset it again. Written straight into the
/// job's line: a struct in between was copied out in 16-byte loads that straddled its 8-byte
/// stores, a store-forwarding stall on every line.
bool read_plain_line(std::string_view line, job_line& out, std::string& unescaped,
                     std::optional<plain_text_class> text_class = {});

}  // namespace promptpack::run
