// The common endpoint answer, {"data":[{"prompt","output":[...]}],"message":"ok"} with no escapes,
// read without a JSON parser.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace promptpack::detail {

/// One element of "data": its echoed prompt and where its outputs are in the output list.
struct response_entry {
  std::string_view echo;  ///< the echoed "prompt" (valid when has_echo)
  std::uint32_t first_output = 0;
  std::uint32_t output_count = 0;
  bool has_echo = false;
};

/// Reads `body` when it is one object with a "data" array and at most one "message":"ok", each
/// entry of "data" an object with one "output" array of strings and at most one "prompt" string,
/// other members ("params", ...) any JSON value whose strings have no escapes, in any order with
/// whitespace anywhere, and the body is valid UTF-8. The views point into `body`, or for a string
/// with escapes into `unescaped` (cleared first; valid until its next use). Returns false for every
/// other body, well-formed or not, with `entries` and `outputs` cleared: the full parser then
/// decides, so this path never reports an error and never accepts what the full parser refuses.
/// `outputs_json_safe` says whether the body had no escape at all, so that every output is its
/// JSON text between quotes (bulk_result::outputs_json_safe).
bool read_plain_response(std::string_view body, std::vector<response_entry>& entries,
                         std::vector<std::string_view>& outputs, std::string& unescaped,
                         bool& outputs_json_safe);

}  // namespace promptpack::detail
