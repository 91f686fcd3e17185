// The out-of-line half of plain_json_cursor: the whole-text check, values skipped, numbers.
#include <promptpack/protocol/plain_json.hpp>

#if defined(__AVX2__)
#include <immintrin.h>
#elif defined(__SSE2__)
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
#if defined(__AVX2__)
  // A whole answer body passes here: 64 bytes between tests, in two 32-byte steps, the bytes
  // OR-ed on the way (their top bit says whether any is >= 0x80).
  if (text.size() >= 32) {
    __m256i any_byte = _mm256_setzero_si256();
    const auto escapes_or_controls = [&any_byte](const unsigned char* at) {
      const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at));
      any_byte = _mm256_or_si256(any_byte, bytes);
      const __m256i control =
          _mm256_cmpeq_epi8(_mm256_min_epu8(bytes, _mm256_set1_epi8(0x1F)), bytes);
      return _mm256_or_si256(control, _mm256_cmpeq_epi8(bytes, _mm256_set1_epi8('\\')));
    };
    for (; end - p >= 64; p += 64) {
      if (_mm256_movemask_epi8(
              _mm256_or_si256(escapes_or_controls(p), escapes_or_controls(p + 32))) != 0)
        return {};
    }
    // The last 1-63 bytes: a step, then the 32 that end the text (bytes checked twice change
    // nothing).
    if (end - p >= 32) {
      if (_mm256_movemask_epi8(escapes_or_controls(p)) != 0) return {};
      p += 32;
    }
    if (p != end && _mm256_movemask_epi8(escapes_or_controls(end - 32)) != 0) return {};
    const bool ascii = _mm256_movemask_epi8(any_byte) == 0;
    return {.clean = true, .ascii = ascii};
  }
#endif
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
  // The last 1-15 bytes of a text of 16 or more: the 16 that end it, in one step (bytes checked
  // twice change nothing), instead of a loop a byte at a time.
  if (p != end && text.size() >= 16) {
    if (_mm_movemask_epi8(escapes_or_controls(end - 16)) != 0) return {};
    p = end;
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
  const char* stop = find_string_special(p_, end_, begin_);
  return stop != end_ && *stop == '"' ? stop : nullptr;
}

bool plain_json_cursor::json_string(std::string_view& out, std::string& unescaped) {
  if (!take('"')) return false;
  const char* stop = clean() ? find_quote(p_, end_, begin_) : find_string_special(p_, end_, begin_);
  if (stop == nullptr || stop == end_) return false;
  if (*stop == '"') {
    out = std::string_view(p_, static_cast<std::size_t>(stop - p_));
    p_ = stop + 1;
    return true;
  }
  if (*stop != '\\' ||
      unescaped.capacity() - unescaped.size() < static_cast<std::size_t>(end_ - p_))
    return false;
  const std::size_t start = unescaped.size();
  for (;;) {
    unescaped.append(p_, static_cast<std::size_t>(stop - p_));
    p_ = stop;
    if (*p_ == '"') break;
    if (*p_ != '\\' || !take_escape(unescaped)) return false;
    stop = find_string_special(p_, end_, begin_);
    if (stop == end_) return false;
  }
  ++p_;
  out = std::string_view(unescaped.data() + start, unescaped.size() - start);
  return true;
}

namespace {

// The value of four hex digits at `p` (checked against `end`), or -1.
long hex4(const char* p, const char* end) noexcept {
  if (end - p < 4) return -1;
  long value = 0;
  for (int i = 0; i < 4; ++i) {
    const char c = p[i];
    int digit;
    if (c >= '0' && c <= '9')
      digit = c - '0';
    else if (c >= 'a' && c <= 'f')
      digit = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      digit = c - 'A' + 10;
    else
      return -1;
    value = value * 16 + digit;
  }
  return value;
}

void append_utf8(std::string& out, unsigned long code_point) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

}  // namespace

bool plain_json_cursor::take_escape(std::string& unescaped) {
  if (end_ - p_ < 2) return false;
  char simple = 0;
  switch (p_[1]) {
    case '"':
      simple = '"';
      break;
    case '\\':
      simple = '\\';
      break;
    case '/':
      simple = '/';
      break;
    case 'b':
      simple = '\b';
      break;
    case 'f':
      simple = '\f';
      break;
    case 'n':
      simple = '\n';
      break;
    case 'r':
      simple = '\r';
      break;
    case 't':
      simple = '\t';
      break;
    case 'u':
      break;
    default:
      return false;
  }
  if (simple != 0) {
    unescaped.push_back(simple);
    p_ += 2;
    return true;
  }
  const long unit = hex4(p_ + 2, end_);
  if (unit < 0) return false;
  p_ += 6;
  if (unit < 0xD800 || unit > 0xDFFF) {
    append_utf8(unescaped, static_cast<unsigned long>(unit));
    return true;
  }
  // A surrogate: only a high one followed by an escaped low one makes a character. A lone one
  // is left to the full parser, whose rule for it is the one that counts.
  if (unit > 0xDBFF || end_ - p_ < 6 || p_[0] != '\\' || p_[1] != 'u') return false;
  const long low = hex4(p_ + 2, end_);
  if (low < 0xDC00 || low > 0xDFFF) return false;
  p_ += 6;
  append_utf8(unescaped, 0x10000 + ((static_cast<unsigned long>(unit) - 0xD800) << 10) +
                             (static_cast<unsigned long>(low) - 0xDC00));
  return true;
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
