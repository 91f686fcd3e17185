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

// A bit for each byte of p[0..16) that a JSON string cannot carry as is: `"`, `\\`, a byte below
// 0x20, and (when NonAscii, for the UTF-8 check) a byte >= 0x80.
template <bool NonAscii>
unsigned special_bytes(const unsigned char* p) noexcept {
#if defined(__SSE2__)
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  // A signed compare with 0x20 catches the controls and the bytes >= 0x80 (negative as int8) at
  // once; an unsigned min catches the controls alone.
  const __m128i low = NonAscii ? _mm_cmplt_epi8(bytes, _mm_set1_epi8(0x20))
                               : _mm_cmpeq_epi8(_mm_min_epu8(bytes, _mm_set1_epi8(0x1F)), bytes);
  const __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('"')),
                                                    _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\\'))),
                                       low);
  return static_cast<unsigned>(_mm_movemask_epi8(special));
#else
  unsigned mask = 0;
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned char c = p[i];
    if (c < 0x20 || (NonAscii && c >= 0x80) || c == '"' || c == '\\') mask |= 1u << i;
  }
  return mask;
#endif
}

// How many bytes from `p` on (at most 16, and never past `end`) need no escape. `text_begin` is
// where the text starts: a tail shorter than 16 bytes is tested as the last 16 bytes of the text
// when the text has them (no copy), else from a copy padded with clean bytes.
template <bool NonAscii>
std::size_t clean_prefix(const unsigned char* p, const unsigned char* end,
                         const unsigned char* text_begin) noexcept {
  const auto remaining = static_cast<std::size_t>(end - p);
  unsigned mask;
  if (remaining >= 16) {
    mask = special_bytes<NonAscii>(p);
  } else if (end - text_begin >= 16) {
    mask = special_bytes<NonAscii>(end - 16) >> (16 - remaining);
  } else {
    unsigned char padded[16];
    std::memset(padded, 'a', sizeof padded);
    std::memcpy(padded, p, remaining);
    mask = special_bytes<NonAscii>(padded) & ((1u << remaining) - 1);
  }
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

// One pass over `text`: clean bytes are appended a run at a time, escapes break a run, and (when
// Validate) every multi-byte sequence is checked on the way. Returns false, with `out` as it
// was, when Validate and `text` is not UTF-8.
template <bool Validate>
bool append_escaped(std::string& out, std::string_view text) {
  static constexpr char hex_digits[] = "0123456789abcdef";
  const std::size_t size_before = out.size();
  out.push_back('"');
  const auto* const begin = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = begin + text.size();
  const unsigned char* run = begin;
  const unsigned char* p = begin;
  while (p != end) {
    const std::size_t clean = clean_prefix<Validate>(p, end, begin);
    p += clean;
    if (clean == 16 || p == end) continue;
    const unsigned char c = *p;
    if (c >= 0x80) {  // only flagged when Validate
      const std::size_t length = utf8_sequence_length(p, end);
      if (length == 0) {
        out.resize(size_before);
        return false;
      }
      p += length;
      continue;
    }
    out.append(reinterpret_cast<const char*>(run), reinterpret_cast<const char*>(p));
    const char escape = escape_table[c];
    if (escape == 'u') {
      const char unicode[6] = {'\\', 'u', '0', '0', hex_digits[c >> 4], hex_digits[c & 0xF]};
      out.append(unicode, sizeof unicode);
    } else {
      const char pair[2] = {'\\', escape};
      out.append(pair, sizeof pair);
    }
    run = ++p;
  }
  out.append(reinterpret_cast<const char*>(run), reinterpret_cast<const char*>(end));
  out.push_back('"');
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
  append_escaped<false>(out, text);
}

bool append_json_string_if_utf8(std::string& out, std::string_view text) {
  return append_escaped<true>(out, text);
}

}  // namespace promptpack
