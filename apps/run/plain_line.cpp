// The fast path of line decoding: most job lines are plain, and scanning them directly costs a
// fraction of a simdjson document per line.
#include "run/plain_line.hpp"

#include <promptpack/protocol/json_text.hpp>
#include <promptpack/protocol/plain_json.hpp>

namespace promptpack::run {
namespace {

// A literal of at most 15 bytes in a 16-byte array, so that it can be compared in one load.
struct literal16 {
  alignas(16) char bytes[16] = {};
  std::size_t size = 0;
  consteval literal16(std::string_view text) : size(text.size()) {
    for (std::size_t i = 0; i < text.size(); ++i) bytes[i] = text[i];
  }
  short_literal literal() const noexcept { return {{bytes, size}, bytes + sizeof bytes}; }
};

// The two layouts writers use for nearly every line: compact, and Python's json.dumps default.
struct line_layout {
  literal16 head;    // up to the custom_id's text
  literal16 middle;  // from its closing quote to the prompt's text
};
constexpr line_layout layouts[] = {
    {literal16(R"({"custom_id":")"), literal16(R"(","prompt":")")},
    {literal16(R"({"custom_id": ")"), literal16(R"(", "prompt": ")")},
};

// A clean line in one of the layouts above, its prompt running to the `"}` that ends the line,
// read with two quote searches and three compares instead of a token at a time. These bytes
// are one object with exactly these two members, so the result is the one the cursor would
// give; anything else (another layout, whitespace at the end) returns false and takes the
// cursor's way.
bool read_usual_layout(std::string_view line, job_line& out) noexcept {
  const char* const begin = line.data();
  const char* const end = begin + line.size();
  for (const auto& layout : layouts) {
    if (!starts_with_short(begin, end, layout.head.literal())) continue;
    const char* id = begin + layout.head.size;
    const char* id_end = find_quote(id, end, begin);
    if (id_end == nullptr || !starts_with_short(id_end, end, layout.middle.literal())) return false;
    const char* prompt = id_end + layout.middle.size;
    if (end - prompt < 2 || end[-2] != '"' || end[-1] != '}') return false;
    const char* prompt_end = end - 2;
    if (find_quote(prompt, prompt_end, begin) != nullptr) return false;  // a quote inside
    out.custom_id = std::string_view(id, static_cast<std::size_t>(id_end - id));
    out.has_custom_id = true;
    out.prompt = std::string_view(prompt, static_cast<std::size_t>(prompt_end - prompt));
    return true;
  }
  return false;
}

}  // namespace

bool read_plain_line(std::string_view line, job_line& out, std::string& unescaped,
                     std::optional<plain_text_class> text_class) {
  out.plain = true;
  plain_json_cursor c = text_class ? plain_json_cursor(line, *text_class) : plain_json_cursor(line);
  if (c.clean() && read_usual_layout(line, out)) {
    out.prompt_json_safe = true;
    return c.ascii() || is_valid_utf8(line);
  }
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
