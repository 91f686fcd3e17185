// Encodes request bodies: JSON string escaping, UTF-8 validation and the pre-rendered head/tail.
#include <promptpack/request_writer.hpp>

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace promptpack {

namespace {

constexpr std::string_view custom_prefix = "custom/";

// The parameter names that have their own fields in "params"; an extra parameter may not reuse
// them.
constexpr std::array<std::string_view, 5> reserved_names = {"prompt", "max_tokens", "temperature",
                                                            "top_p", "top_k"};

// For each byte: 0 when it is copied as is, otherwise the character after the backslash of its
// escape ('u' for the \u00XX form).
constexpr std::array<char, 256> make_escape_table() {
  std::array<char, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = 'u';
  table['\b'] = 'b';
  table['\t'] = 't';
  table['\n'] = 'n';
  table['\f'] = 'f';
  table['\r'] = 'r';
  table['"'] = '"';
  table['\\'] = '\\';
  return table;
}
constexpr std::array<char, 256> escape_table = make_escape_table();

// True when some byte of `word` is below 0x20, '"' or '\\'. SWAR: (x - n*0x0101..) & ~x & 0x8080..
// is non-zero exactly when some byte of x is below n (n <= 0x80); for '"' and '\\', x is the word
// xor the character and n is 1. Borrows may flag bytes after a match, which does not change the
// yes/no answer.
constexpr bool needs_escape(std::uint64_t word) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t high_bits = 0x8080808080808080ULL;
  const std::uint64_t quote = word ^ (ones * '"');
  const std::uint64_t backslash = word ^ (ones * '\\');
  const std::uint64_t control = (word - ones * 0x20) & ~word;
  return ((control | ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash)) & high_bits) !=
         0;
}

bool is_continuation(unsigned char c) noexcept {
  return (c & 0xC0) == 0x80;
}

// Shortest round-trip form: 0.7 -> "0.7", 1.0 -> "1". Both are valid JSON numbers.
void append_double(std::string& out, double value, std::string_view name) {
  if (!std::isfinite(value)) {
    throw std::invalid_argument(std::string(name) +
                                " must be a finite number; JSON has no NaN or infinity");
  }
  char buf[32];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, result.ptr);
}

void append_int(std::string& out, int value) {
  char buf[16];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, result.ptr);
}

// Rejects names the request already uses and values that are not exactly one JSON value, so a
// bad parameter is a configuration error rather than a body every endpoint rejects.
void check_extra(const std::pair<std::string, std::string>& param, simdjson::dom::parser& json) {
  const auto& [name, value] = param;
  if (!is_valid_utf8(name)) {
    throw std::invalid_argument("a parameter name is not valid UTF-8; use UTF-8 names");
  }
  if (std::find(reserved_names.begin(), reserved_names.end(), name) != reserved_names.end()) {
    if (name == "prompt") {
      throw std::invalid_argument(
          "parameter \"prompt\" is reserved for the prompts themselves; remove it from the extra "
          "parameters");
    }
    throw std::invalid_argument("parameter \"" + name + "\" has its own setting; set " + name +
                                " there instead of passing it as an extra parameter");
  }
  // The DOM parser validates the whole text (UTF-8 included) and rejects trailing content.
  const simdjson::padded_string padded(value);
  if (const auto error = json.parse(padded).error()) {
    throw std::invalid_argument("parameter \"" + name + "\" is not exactly one valid JSON value (" +
                                simdjson::error_message(error) +
                                "); pass its JSON text, for example 7, \"text\" or [\"\\n\"]");
  }
}

}  // namespace

std::string_view strip_custom_prefix(std::string_view model) noexcept {
  if (model.starts_with(custom_prefix)) model.remove_prefix(custom_prefix.size());
  return model;
}

bool is_valid_utf8(std::string_view text) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  constexpr std::uint64_t high_bits = 0x8080808080808080ULL;
  while (p < end) {
    // Prompts are mostly ASCII: skip eight such bytes per step.
    while (end - p >= 8) {
      std::uint64_t word;
      std::memcpy(&word, p, sizeof word);
      if (word & high_bits) break;
      p += 8;
    }
    if (p == end) break;
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    // C0 and C1 would only start overlong two-byte forms; F5 and above exceed U+10FFFF.
    if (c < 0xC2 || c > 0xF4) return false;
    if (c < 0xE0) {
      if (end - p < 2 || !is_continuation(p[1])) return false;
      p += 2;
      continue;
    }
    if (c < 0xF0) {
      if (end - p < 3) return false;
      // E0 needs A0..BF (else overlong); ED needs 80..9F (else a surrogate D800..DFFF).
      const unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;
      const unsigned char hi = c == 0xED ? 0x9F : 0xBF;
      if (p[1] < lo || p[1] > hi || !is_continuation(p[2])) return false;
      p += 3;
      continue;
    }
    if (end - p < 4) return false;
    // F0 needs 90..BF (else overlong); F4 needs 80..8F (else above U+10FFFF).
    const unsigned char lo = c == 0xF0 ? 0x90 : 0x80;
    const unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;
    if (p[1] < lo || p[1] > hi || !is_continuation(p[2]) || !is_continuation(p[3])) return false;
    p += 4;
  }
  return true;
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex_digits[] = "0123456789abcdef";
  out.push_back('"');
  const char* run = text.data();
  const char* const end = run + text.size();
  // Clean bytes are appended a whole run at a time; only escapes break a run. Clean blocks of 16
  // bytes are skipped with one SWAR test each: about 0.14 ns per byte, against 0.22 for a table
  // lookup per byte.
  for (const char* p = run; p != end;) {
    while (end - p >= 16) {
      std::uint64_t words[2];
      std::memcpy(words, p, sizeof words);
      if (needs_escape(words[0]) || needs_escape(words[1])) break;
      p += 16;
    }
    if (p == end) break;
    const char escape = escape_table[static_cast<unsigned char>(*p)];
    if (escape == 0) {
      ++p;
      continue;
    }
    out.append(run, p);
    if (escape == 'u') {
      const auto c = static_cast<unsigned char>(*p);
      const char unicode[6] = {'\\', 'u', '0', '0', hex_digits[c >> 4], hex_digits[c & 0xF]};
      out.append(unicode, sizeof unicode);
    } else {
      const char pair[2] = {'\\', escape};
      out.append(pair, sizeof pair);
    }
    run = ++p;
  }
  out.append(run, end);
  out.push_back('"');
}

request_writer::request_writer(std::string_view model, const SamplingParams& params) {
  if (!is_valid_utf8(model)) {
    throw std::invalid_argument("the model name is not valid UTF-8; use a UTF-8 model name");
  }
  head_ = "{\"model\":";
  append_json_string(head_, strip_custom_prefix(model));
  head_ += ",\"params\":{\"prompt\":[";

  tail_ = "],\"max_tokens\":";
  append_int(tail_, params.max_tokens);
  tail_ += ",\"temperature\":";
  append_double(tail_, params.temperature, "temperature");
  tail_ += ",\"top_p\":";
  append_double(tail_, params.top_p, "top_p");
  tail_ += ",\"top_k\":";
  append_int(tail_, params.top_k);

  // Sorted by name, so the same parameters given in another order render (and group) the same.
  std::vector<const std::pair<std::string, std::string>*> extra;
  extra.reserve(params.extra.size());
  for (const auto& param : params.extra) extra.push_back(&param);
  std::sort(extra.begin(), extra.end(), [](auto* a, auto* b) { return a->first < b->first; });
  simdjson::dom::parser json;
  for (std::size_t i = 0; i < extra.size(); ++i) {
    if (i > 0 && extra[i]->first == extra[i - 1]->first) {
      throw std::invalid_argument("parameter \"" + extra[i]->first +
                                  "\" is given twice; give each parameter once");
    }
    check_extra(*extra[i], json);
    tail_ += ',';
    append_json_string(tail_, extra[i]->first);
    tail_ += ':';
    tail_ += extra[i]->second;
  }
  tail_ += "}}";
  tail_with_model_ = head_ + tail_;
}

void request_writer::begin(std::string& out) const {
  out.assign(head_);
}

void request_writer::add_prompt(std::string& out, std::string_view prompt, bool first) {
  if (!first) out.push_back(',');
  append_json_string(out, prompt);
}

void request_writer::end(std::string& out) const {
  out.append(tail_);
}

}  // namespace promptpack
