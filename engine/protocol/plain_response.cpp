// The fast path of response parsing: an answer with no escapes (what most endpoints send for most
// batches) is read in one pass over its bytes, without simdjson's structural index and iteration.
#include "protocol/plain_response.hpp"

#include <promptpack/protocol/plain_json.hpp>

#include <simdjson.h>

namespace promptpack::detail {
namespace {

using cursor = plain_json_cursor;

// ["...", ...] into `outputs`; counts them in `e`.
bool read_outputs(cursor& c, response_entry& e, std::vector<std::string_view>& outputs) {
  if (!c.take('[')) return false;
  if (c.take(']')) return true;
  do {
    std::string_view text;
    if (!c.plain_string(text)) return false;
    outputs.push_back(text);
    ++e.output_count;
  } while (c.take(','));
  return c.take(']');
}

// {"prompt": "...", "output": [...]}, either order, "prompt" optional.
bool read_entry(cursor& c, std::vector<response_entry>& entries,
                std::vector<std::string_view>& outputs) {
  if (!c.take('{')) return false;
  // Filled in place (a failure clears the list): an entry built aside and pushed was copied in
  // wide moves that straddled its narrow stores, a store-forwarding stall per entry.
  response_entry& e = entries.emplace_back();
  e.first_output = static_cast<std::uint32_t>(outputs.size());
  bool has_output = false;
  do {
    std::string_view name;
    if (!c.member_name(name)) return false;
    // A repeated member is left to the full parser, which names it in its error.
    if (name == "output") {
      if (has_output || !read_outputs(c, e, outputs)) return false;
      has_output = true;
    } else if (name == "prompt") {
      if (e.has_echo || !c.plain_string(e.echo)) return false;
      e.has_echo = true;
    } else if (!c.skip_value()) {
      return false;
    }
  } while (c.take(','));
  return c.take('}') && has_output;
}

bool read_body(std::string_view body, std::vector<response_entry>& entries,
               std::vector<std::string_view>& outputs) {
  cursor c(body);
  // A backslash anywhere means some string needs simdjson's unescaping: give it the whole body at
  // once rather than scan up to that string first. (Whitespace other than spaces goes there too.)
  if (!c.clean()) return false;
  bool has_data = false;
  bool has_message = false;
  if (!c.take('{')) return false;
  do {
    std::string_view name;
    if (!c.member_name(name)) return false;
    if (name == "data") {
      if (has_data || !c.take('[')) return false;
      if (!c.take(']')) {
        do {
          if (!read_entry(c, entries, outputs)) return false;
        } while (c.take(','));
        if (!c.take(']')) return false;
      }
      has_data = true;
    } else if (name == "message") {
      std::string_view message;
      if (has_message || !c.plain_string(message) || message != "ok") return false;
      has_message = true;
    } else if (!c.skip_value()) {
      return false;
    }
  } while (c.take(','));
  // Only bytes >= 0x80 are left to check, all inside strings: checking the whole body is as exact.
  return c.take('}') && c.at_end() && has_data && simdjson::validate_utf8(body.data(), body.size());
}

}  // namespace

bool read_plain_response(std::string_view body, std::vector<response_entry>& entries,
                         std::vector<std::string_view>& outputs) {
  entries.clear();
  outputs.clear();
  if (read_body(body, entries, outputs)) return true;
  entries.clear();
  outputs.clear();
  return false;
}

}  // namespace promptpack::detail
