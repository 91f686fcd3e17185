// The fast path of line decoding: most job lines are plain, and scanning them directly costs a
// fraction of a simdjson document per line.
#include "run/plain_line.hpp"

#include <promptpack/protocol/json_text.hpp>
#include <promptpack/protocol/plain_json.hpp>

namespace promptpack::run {

bool read_plain_line(std::string_view line, plain_line& out, std::string& unescaped,
                     std::optional<plain_text_class> text_class) {
  out = {};
  plain_json_cursor c = text_class ? plain_json_cursor(line, *text_class) : plain_json_cursor(line);
  // A prompt with escapes (a newline, say) is unescaped here, never longer than in the line.
  unescaped.clear();
  if (!c.clean() && unescaped.capacity() < line.size()) unescaped.reserve(line.size());
  bool has_prompt = false;
  if (!c.take('{')) return false;
  do {
    std::string_view key;
    if (!c.member_name(key)) return false;
    // A repeated member is left to the full parser, whose rule for it is the one that counts.
    if (key == "prompt" && !has_prompt) {
      if (!c.json_string(out.prompt, unescaped)) return false;
      has_prompt = true;
    } else if (key == "custom_id" && !out.has_custom_id) {
      if (!c.plain_string(out.custom_id)) return false;
      out.has_custom_id = true;
    } else {
      return false;
    }
  } while (c.take(','));
  if (!c.take('}')) return false;
  // A clean line has no escape anywhere, so the prompt is a view of its own JSON text.
  out.prompt_json_safe = c.clean();
  // Only bytes >= 0x80 are left to check, and only in the strings; the rest of the line is ASCII
  // by now. Checking the whole line is simpler and as exact (and free when the cursor's first
  // pass saw none). What escapes stand for is UTF-8 by construction.
  return c.at_end() && has_prompt && (c.ascii() || is_valid_utf8(line));
}

}  // namespace promptpack::run
