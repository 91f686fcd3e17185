// The fast path of line decoding: most job lines are plain, and scanning them directly costs a
// fraction of a simdjson document per line.
#include "run/plain_line.hpp"

#include <promptpack/protocol/json_text.hpp>

namespace promptpack::run {
namespace {

// A cursor over the line; every read is bounds-checked against the line's end.
struct cursor {
  const char* p;
  const char* end;

  void skip_whitespace() noexcept {
    while (p != end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) ++p;
  }
  bool take(char c) noexcept {
    skip_whitespace();
    if (p == end || *p != c) return false;
    ++p;
    return true;
  }
  // A string with no escape and no control byte, the opening quote already taken.
  bool plain_string(std::string_view& out) noexcept {
    const std::string_view rest(p, static_cast<std::size_t>(end - p));
    const std::size_t length = json_unescaped_prefix(rest);
    if (length == rest.size() || rest[length] != '"') return false;
    out = rest.substr(0, length);
    p += length + 1;
    return true;
  }
};

}  // namespace

bool read_plain_line(std::string_view line, plain_line& out) noexcept {
  out = {};
  cursor c{line.data(), line.data() + line.size()};
  bool has_prompt = false;
  if (!c.take('{')) return false;
  do {
    std::string_view key;
    std::string_view value;
    if (!c.take('"') || !c.plain_string(key) || !c.take(':') || !c.take('"') ||
        !c.plain_string(value)) {
      return false;
    }
    // A repeated member is left to the full parser, whose rule for it is the one that counts.
    if (key == "prompt" && !has_prompt) {
      out.prompt = value;
      has_prompt = true;
    } else if (key == "custom_id" && !out.has_custom_id) {
      out.custom_id = value;
      out.has_custom_id = true;
    } else {
      return false;
    }
  } while (c.take(','));
  if (!c.take('}')) return false;
  c.skip_whitespace();
  // Only bytes >= 0x80 are left to check, and only in the strings; the rest of the line is ASCII
  // by now. Checking the whole line is simpler and as exact.
  return c.p == c.end && has_prompt && is_valid_utf8(line);
}

}  // namespace promptpack::run
