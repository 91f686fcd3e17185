// JSON string escaping and UTF-8 validation: the byte-level half of request encoding.
#include <promptpack/protocol/json_text.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace promptpack {

namespace {

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

// Sixteen bytes of text, in a register where there is SSE2.
#if defined(__SSE2__)
using bytes16 = __m128i;

[[gnu::always_inline]] inline bytes16 load16(const unsigned char* p) noexcept {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

[[gnu::always_inline]] inline void store16(char* out, bytes16 bytes) noexcept {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), bytes);
}

// The `count` (1..15) bytes at `p` and zeros, read without touching a byte past p[count - 1]:
// two overlapping loads of 8, 4 or 1 bytes, shifted together in registers.
bytes16 load_short(const unsigned char* p, std::size_t count) noexcept {
  const auto load = [](const unsigned char* at, auto word) {
    std::memcpy(&word, at, sizeof word);
    return static_cast<std::uint64_t>(word);
  };
  std::uint64_t low;
  std::uint64_t high = 0;
  if (count >= 8) {
    low = load(p, std::uint64_t{});
    if (count > 8) high = load(p + count - 8, std::uint64_t{}) >> (8 * (16 - count));
  } else if (count >= 4) {
    low = load(p, std::uint32_t{}) | (load(p + count - 4, std::uint32_t{}) >> (8 * (8 - count)))
                                         << 32;
  } else {
    low = p[0] | std::uint64_t{p[count / 2]} << (8 * (count / 2)) |
          std::uint64_t{p[count - 1]} << (8 * (count - 1));
  }
  return _mm_set_epi64x(static_cast<long long>(high), static_cast<long long>(low));
}

// A bit for each byte that a JSON string cannot carry as is: `"`, `\`, a byte below 0x20, and
// (when NonAscii, for the UTF-8 check) a byte >= 0x80.
template <bool NonAscii>
[[gnu::always_inline]] inline unsigned special_bytes(bytes16 bytes) noexcept {
  // A signed compare with 0x20 catches the controls and the bytes >= 0x80 (negative as int8) at
  // once; an unsigned min catches the controls alone.
  const __m128i low = NonAscii ? _mm_cmplt_epi8(bytes, _mm_set1_epi8(0x20))
                               : _mm_cmpeq_epi8(_mm_min_epu8(bytes, _mm_set1_epi8(0x1F)), bytes);
  const __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('"')),
                                                    _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\\'))),
                                       low);
  return static_cast<unsigned>(_mm_movemask_epi8(special));
}
#else
using bytes16 = std::array<unsigned char, 16>;

[[gnu::always_inline]] inline bytes16 load16(const unsigned char* p) noexcept {
  bytes16 bytes;
  std::memcpy(bytes.data(), p, bytes.size());
  return bytes;
}

void store16(char* out, const bytes16& bytes) noexcept {
  std::memcpy(out, bytes.data(), bytes.size());
}

bytes16 load_short(const unsigned char* p, std::size_t count) noexcept {
  bytes16 bytes{};
  std::memcpy(bytes.data(), p, count);
  return bytes;
}

template <bool NonAscii>
unsigned special_bytes(const bytes16& bytes) noexcept {
  unsigned mask = 0;
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned char c = bytes[i];
    if (c < 0x20 || (NonAscii && c >= 0x80) || c == '"' || c == '\\') mask |= 1u << i;
  }
  return mask;
}
#endif

// How many bytes from `p` on (at most 16, and never past `end`) need no escape. `text_begin` is
// where the text starts: a tail shorter than 16 bytes is tested as the last 16 bytes of the text
// when the text has them (one load), else gathered with load_short.
template <bool NonAscii>
std::size_t clean_prefix(const unsigned char* p, const unsigned char* end,
                         const unsigned char* text_begin) noexcept {
  const auto remaining = static_cast<std::size_t>(end - p);
  unsigned mask;
  if (remaining >= 16)
    mask = special_bytes<NonAscii>(load16(p));
  else if (end - text_begin >= 16)
    mask = special_bytes<NonAscii>(load16(end - 16)) >> (16 - remaining);
  else
    mask = special_bytes<NonAscii>(load_short(p, remaining)) & ((1u << remaining) - 1);
  return mask == 0 ? std::min<std::size_t>(remaining, 16)
                   : static_cast<std::size_t>(std::countr_zero(mask));
}

bool is_continuation(unsigned char c) noexcept {
  return (c & 0xC0) == 0x80;
}

// The length of the well-formed UTF-8 sequence that starts with the byte >= 0x80 at `p`, or 0.
std::size_t utf8_sequence_length(const unsigned char* p, const unsigned char* end) noexcept {
  const unsigned char c = *p;
  // C0 and C1 would only start overlong two-byte forms; F5 and above exceed U+10FFFF.
  if (c < 0xC2 || c > 0xF4) return 0;
  if (c < 0xE0) return end - p >= 2 && is_continuation(p[1]) ? 2 : 0;
  if (c < 0xF0) {
    if (end - p < 3) return 0;
    // E0 needs A0..BF (else overlong); ED needs 80..9F (else a surrogate D800..DFFF).
    const unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;
    const unsigned char hi = c == 0xED ? 0x9F : 0xBF;
    return p[1] >= lo && p[1] <= hi && is_continuation(p[2]) ? 3 : 0;
  }
  if (end - p < 4) return 0;
  // F0 needs 90..BF (else overlong); F4 needs 80..8F (else above U+10FFFF).
  const unsigned char lo = c == 0xF0 ? 0x90 : 0x80;
  const unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;
  return p[1] >= lo && p[1] <= hi && is_continuation(p[2]) && is_continuation(p[3]) ? 4 : 0;
}

// Where append_escaped writes: room() gives writable bytes past the end, room_at() more from a
// place inside them, commit() ends the text, abandon() leaves it as it was.
class buffer_sink {
 public:
  explicit buffer_sink(write_buffer& buffer) noexcept : buffer_(buffer) {}
  char* room(std::size_t bytes) { return buffer_.room(bytes); }
  char* room_at(char* at, std::size_t bytes) { return buffer_.room_at(at, bytes); }
  void commit(const char* end) noexcept { buffer_.commit(end); }
  void abandon() noexcept {}

 private:
  write_buffer& buffer_;
};

// A std::string has no room past its size: room() grows it (a zero-fill), commit() cuts it back.
class string_sink {
 public:
  explicit string_sink(std::string& text) noexcept : text_(text), size_before_(text.size()) {}
  char* room(std::size_t bytes) {
    text_.resize(size_before_ + bytes);
    return text_.data() + size_before_;
  }
  char* room_at(char* at, std::size_t bytes) {
    const auto offset = static_cast<std::size_t>(at - text_.data());
    if (text_.size() - offset < bytes) text_.resize(offset + bytes);
    return text_.data() + offset;
  }
  void commit(const char* end) { text_.resize(static_cast<std::size_t>(end - text_.data())); }
  void abandon() { text_.resize(size_before_); }

 private:
  std::string& text_;
  std::size_t size_before_;
};

// One pass over `text`, sixteen bytes a step: each step is stored whole and kept up to its first
// byte that needs an escape (all of it, usually), and (when Validate) every multi-byte sequence
// is checked on the way. Returns false, with the sink as it was, when Validate and `text` is not
// UTF-8.
template <bool Validate, class Sink>
bool append_escaped(Sink& sink, std::string_view text, char separator = 0) {
  static constexpr char hex_digits[] = "0123456789abcdef";
  // One store reaches 16 bytes past where the text has got to. So the room always holds what is
  // left of the text, the closing quote and 16 bytes more; each escape asks for its extra bytes.
  constexpr std::size_t slack = 1 + 16;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  char* out = sink.room(2 + text.size() + slack);
  if (separator != 0) *out++ = separator;
  *out++ = '"';
  while (p != end) {
    const auto left = static_cast<std::size_t>(end - p);
    const bytes16 bytes = left >= 16 ? load16(p) : load_short(p, left);
    store16(out, bytes);
    unsigned mask = special_bytes<Validate>(bytes);
    if (left < 16) mask &= (1u << left) - 1;
    if (mask == 0) {
      const std::size_t step = std::min<std::size_t>(left, 16);
      p += step;
      out += step;
      continue;
    }
    const auto clean = static_cast<std::size_t>(std::countr_zero(mask));
    p += clean;
    out += clean;
    const unsigned char c = *p;
    if (c >= 0x80) {  // only flagged when Validate
      const std::size_t length = utf8_sequence_length(p, end);
      if (length == 0) {
        sink.abandon();
        return false;
      }
      std::memcpy(out, p, length);
      p += length;
      out += length;
      continue;
    }
    // At most six bytes for one: the room grows by five, which covers the pair form too.
    out = sink.room_at(out, static_cast<std::size_t>(end - p) + 5 + slack);
    const char escape = escape_table[c];
    *out++ = '\\';
    if (escape == 'u') {
      const char unicode[5] = {'u', '0', '0', hex_digits[c >> 4], hex_digits[c & 0xF]};
      std::memcpy(out, unicode, sizeof unicode);
      out += sizeof unicode;
    } else {
      *out++ = escape;
    }
    ++p;
  }
  *out++ = '"';
  sink.commit(out);
  return true;
}

}  // namespace

bool is_valid_utf8(std::string_view text) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  constexpr std::uint64_t high_bits = 0x8080808080808080ULL;
  while (p < end) {
    // Text is mostly ASCII: skip eight such bytes per step.
    while (end - p >= 8) {
      std::uint64_t word;
      std::memcpy(&word, p, sizeof word);
      if (word & high_bits) break;
      p += 8;
    }
    if (p == end) break;
    if (*p < 0x80) {
      ++p;
      continue;
    }
    const std::size_t length = utf8_sequence_length(p, end);
    if (length == 0) return false;
    p += length;
  }
  return true;
}

std::size_t json_unescaped_prefix(std::string_view text) noexcept {
  const auto* const begin = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = begin + text.size();
  const unsigned char* p = begin;
  while (p != end) {
    const std::size_t clean = clean_prefix<false>(p, end, begin);
    p += clean;
    if (clean < 16) break;
  }
  return static_cast<std::size_t>(p - begin);
}

void append_json_string(std::string& out, std::string_view text) {
  // The sink's zero-fill costs more than a search: a text with nothing to escape (most) is
  // appended as it is.
  if (json_unescaped_prefix(text) == text.size()) {
    out.push_back('"');
    out.append(text);
    out.push_back('"');
    return;
  }
  string_sink sink(out);
  append_escaped<false>(sink, text);
}

bool append_json_string_if_utf8(write_buffer& out, std::string_view text, char separator) {
  buffer_sink sink(out);
  return append_escaped<true>(sink, text, separator);
}

}  // namespace promptpack
