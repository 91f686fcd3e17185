// The out-of-line half of plain_json_cursor: the whole-text check, values skipped, numbers.
#include <promptpack/protocol/plain_json.hpp>

#include <promptpack/protocol/json_text.hpp>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace promptpack {

namespace {

// Deeper values (rare where the fast paths look) are left to the full parser.
constexpr int max_skipped_depth = 16;

}  // namespace

plain_text_class classify_plain_text(std::string_view text) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  unsigned char high_bits = 0;
#if defined(__SSE2__)
  // 64 bytes between tests: a text with a backslash is given up early, a clean one pays one branch
  // per four steps. The bytes are OR-ed on the way: their top bit says whether any is >= 0x80.
  __m128i any_byte = _mm_setzero_si128();
  const auto escapes_or_controls = [&any_byte](const unsigned char* at) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
    any_byte = _mm_or_si128(any_byte, bytes);
    const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(bytes, _mm_set1_epi8(0x1F)), bytes);
    return _mm_or_si128(control, _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\\')));
  };
  for (; end - p >= 64; p += 64) {
    const __m128i found =
        _mm_or_si128(_mm_or_si128(escapes_or_controls(p), escapes_or_controls(p + 16)),
                     _mm_or_si128(escapes_or_controls(p + 32), escapes_or_controls(p + 48)));
    if (_mm_movemask_epi8(found) != 0) return {};
  }
  for (; end - p >= 16; p += 16) {
    if (_mm_movemask_epi8(escapes_or_controls(p)) != 0) return {};
  }
  if (_mm_movemask_epi8(any_byte) != 0) high_bits = 0x80;
#endif
  for (; p != end; ++p) {
    if (*p == '\\' || *p < 0x20) return {};
    high_bits |= *p;
  }
  return {.clean = true, .ascii = (high_bits & 0x80) == 0};
}

const char* plain_json_cursor::unescaped_end() const noexcept {
  const std::string_view rest(p_, static_cast<std::size_t>(end_ - p_));
  const std::size_t length = json_unescaped_prefix(rest);
  return length < rest.size() && rest[length] == '"' ? p_ + length : nullptr;
}

bool plain_json_cursor::skip_value(int depth) noexcept {
  if (depth > max_skipped_depth) return false;
  skip_whitespace();
  if (p_ == end_) return false;
  switch (*p_) {
    case '"': {
      std::string_view text;
      return plain_string(text);
    }
    case '{':
      ++p_;
      if (take('}')) return true;
      do {
        std::string_view name;
        if (!member_name(name) || !skip_value(depth + 1)) return false;
      } while (take(','));
      return take('}');
    case '[':
      ++p_;
      if (take(']')) return true;
      do {
        if (!skip_value(depth + 1)) return false;
      } while (take(','));
      return take(']');
    case 't':
      return take_word("true");
    case 'f':
      return take_word("false");
    case 'n':
      return take_word("null");
    default:
      return take_number();
  }
}

bool plain_json_cursor::take_word(std::string_view word) noexcept {
  if (static_cast<std::size_t>(end_ - p_) < word.size() ||
      std::memcmp(p_, word.data(), word.size()) != 0) {
    return false;
  }
  p_ += word.size();
  return true;
}

// JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool plain_json_cursor::take_number() noexcept {
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

bool plain_json_cursor::digits() noexcept {
  const char* start = p_;
  while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
  return p_ != start;
}

}  // namespace promptpack
