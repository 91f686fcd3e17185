// The fast path of response parsing: an answer with no escapes (what most endpoints send for most
// batches) is read in one pass over its bytes, without simdjson's structural index and iteration.
#include "protocol/plain_response.hpp"

#include <promptpack/protocol/json_text.hpp>

#include <simdjson.h>

#include <cstring>

namespace promptpack::detail {
namespace {

// A cursor over the body; every read is bounds-checked against the body's end.
class cursor {
 public:
  explicit cursor(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  bool at_end() noexcept {
    skip_whitespace();
    return p_ == end_;
  }
  // Takes `c` after any whitespace.
  bool take(char c) noexcept {
    skip_whitespace();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  // Takes `"name":` after any whitespace: a member's name.
  bool member_name(std::string_view& name) noexcept { return plain_string(name) && take(':'); }
  // Takes the JSON literal `word` (true, false, null) after any whitespace.
  bool take_word(std::string_view word) noexcept {
    skip_whitespace();
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::memcmp(p_, word.data(), word.size()) != 0) {
      return false;
    }
    p_ += word.size();
    return true;
  }
  // Takes a number of JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
  bool take_number() noexcept {
    skip_whitespace();
    if (p_ != end_ && *p_ == '-') ++p_;
    if (p_ == end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (!digits()) {
      return false;
    }
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (!digits()) return false;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!digits()) return false;
    }
    return true;
  }
  // The next significant byte, without taking it; 0 at the end.
  char peek() noexcept {
    skip_whitespace();
    return p_ == end_ ? '\0' : *p_;
  }
  // A string with no escape and no control byte, opening quote and all.
  bool plain_string(std::string_view& out) noexcept {
    if (!take('"')) return false;
    const std::string_view rest(p_, static_cast<std::size_t>(end_ - p_));
    const std::size_t length = json_unescaped_prefix(rest);
    if (length == rest.size() || rest[length] != '"') return false;
    out = rest.substr(0, length);
    p_ += length + 1;
    return true;
  }

 private:
  void skip_whitespace() noexcept {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\r' || *p_ == '\n')) ++p_;
  }

  // One or more decimal digits.
  bool digits() noexcept {
    const char* start = p_;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    return p_ != start;
  }

  const char* p_;
  const char* end_;
};

// Deeper values (rare in an answer) are left to the full parser.
constexpr int max_skipped_depth = 16;

// Checks and skips a member this reader does not use ("params", an endpoint's own fields): any
// JSON value whose strings have no escapes.
bool skip_value(cursor& c, int depth) {
  if (depth > max_skipped_depth) return false;
  switch (c.peek()) {
    case '"': {
      std::string_view text;
      return c.plain_string(text);
    }
    case '{': {
      c.take('{');
      if (c.take('}')) return true;
      do {
        std::string_view name;
        if (!c.member_name(name) || !skip_value(c, depth + 1)) return false;
      } while (c.take(','));
      return c.take('}');
    }
    case '[': {
      c.take('[');
      if (c.take(']')) return true;
      do {
        if (!skip_value(c, depth + 1)) return false;
      } while (c.take(','));
      return c.take(']');
    }
    case 't':
      return c.take_word("true");
    case 'f':
      return c.take_word("false");
    case 'n':
      return c.take_word("null");
    default:
      return c.take_number();
  }
}

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
  response_entry e;
  e.first_output = static_cast<std::uint32_t>(outputs.size());
  bool has_output = false;
  if (!c.take('{')) return false;
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
    } else if (!skip_value(c, 0)) {
      return false;
    }
  } while (c.take(','));
  if (!c.take('}') || !has_output) return false;
  entries.push_back(e);
  return true;
}

bool read_body(std::string_view body, std::vector<response_entry>& entries,
               std::vector<std::string_view>& outputs) {
  cursor c(body);
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
    } else if (!skip_value(c, 0)) {
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
