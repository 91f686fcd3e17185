// Low-level API: reading JSON whose strings have no escapes, without a parser, for fast paths
// that fall back to a real parser whenever the text is anything else.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__AVX2__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace promptpack {

/// What one pass over a text found (64 bytes a step, SSE2).
struct plain_text_class {
  /// No `\` and no byte below 0x20: every well-formed JSON string in the text is then plain, its
  /// value the bytes between its quotes.
  bool clean = false;
  /// Clean, and no byte >= 0x80 either: the text is valid UTF-8 with no further check.
  bool ascii = false;
};
plain_text_class classify_plain_text(std::string_view text) noexcept;

/// The first `"` in [p, end), or null. `text_begin` (<= p) is where the text starts: when it
/// holds a whole step (32 bytes with AVX2, else 16), the last few bytes are read in one load that
/// ends at `end`, not in a library call. Inline: it runs once per string, and names and outputs
/// are short, so a call cost as much as the compare.
inline const char* find_quote(const char* p, const char* end, const char* text_begin) noexcept {
#if defined(__AVX2__)
  const auto quotes_in_32 = [](const char* at) {
    const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at));
    return static_cast<std::uint32_t>(
        _mm256_movemask_epi8(_mm256_cmpeq_epi8(bytes, _mm256_set1_epi8('"'))));
  };
  for (; end - p >= 32; p += 32) {
    if (const std::uint32_t quotes = quotes_in_32(p); quotes != 0)
      return p + std::countr_zero(quotes);
  }
  if (p != end && end - text_begin >= 32) {
    const char* last32 = end - 32;  // overlaps bytes before p, which the shift drops
    const std::uint32_t quotes = quotes_in_32(last32) >> (p - last32);
    return quotes != 0 ? p + std::countr_zero(quotes) : nullptr;
  }
#endif
#if defined(__SSE2__)
  const auto quotes_at = [](const char* at) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
    return static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('"'))));
  };
  for (; end - p >= 16; p += 16) {
    if (const unsigned quotes = quotes_at(p); quotes != 0) return p + std::countr_zero(quotes);
  }
  if (p != end && end - text_begin >= 16) {
    const char* last16 = end - 16;  // overlaps bytes before p, which the shift drops
    const unsigned quotes = quotes_at(last16) >> (p - last16);
    return quotes != 0 ? p + std::countr_zero(quotes) : nullptr;
  }
#endif
  return static_cast<const char*>(std::memchr(p, '"', static_cast<std::size_t>(end - p)));
}

/// The first `"`, `\` or byte below 0x20 in [p, end), or `end`: where a JSON string's plain run
/// stops. `text_begin` as for find_quote(). Inline, 16 bytes a step (SSE2): it runs once per
/// string, or per run between escapes.
inline const char* find_string_special(const char* p, const char* end,
                                       const char* text_begin) noexcept {
#if defined(__SSE2__)
  const auto specials_at = [](const char* at) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
    const __m128i special =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('"')),
                                  _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\\'))),
                     _mm_cmpeq_epi8(_mm_min_epu8(bytes, _mm_set1_epi8(0x1F)), bytes));
    return static_cast<unsigned>(_mm_movemask_epi8(special));
  };
  for (; end - p >= 16; p += 16) {
    if (const unsigned mask = specials_at(p); mask != 0) return p + std::countr_zero(mask);
  }
  if (p != end && end - text_begin >= 16) {
    const char* last16 = end - 16;
    const unsigned mask = specials_at(last16) >> (p - last16);
    return mask != 0 ? p + std::countr_zero(mask) : end;
  }
#endif
  for (; p != end; ++p) {
    if (*p == '"' || *p == '\\' || static_cast<unsigned char>(*p) < 0x20) return p;
  }
  return end;
}

/// A literal for starts_with_short(): its bytes, and whether 16 bytes can be read where they
/// start, which allows one 16-byte compare instead of a memcmp call.
class short_literal {
 public:
  constexpr short_literal() noexcept = default;
  /// `storage_end` is the end of the storage that holds `text`: a padded constant's, or that of
  /// the text it was taken from. Nothing past it is ever read.
  constexpr short_literal(std::string_view text, const char* storage_end) noexcept
      : data_(text.data()),
        size_(text.size()),
        one_load_(text.size() <= 16 && storage_end - text.data() >= 16) {}

  constexpr const char* data() const noexcept { return data_; }
  constexpr std::size_t size() const noexcept { return size_; }
  constexpr std::string_view text() const noexcept { return {data_, size_}; }
  /// At most 16 bytes, with 16 readable.
  constexpr bool one_load() const noexcept { return one_load_; }

 private:
  const char* data_ = nullptr;
  std::size_t size_ = 0;
  bool one_load_ = false;
};

/// True when [p, end) starts with `literal`: one 16-byte compare when 16 bytes can be read at both.
[[gnu::always_inline]] inline bool starts_with_short(const char* p, const char* end,
                                                     const short_literal& literal) noexcept {
  const std::size_t size = literal.size();
  if (static_cast<std::size_t>(end - p) < size) return false;
#if defined(__SSE2__)
  if (literal.one_load() && end - p >= 16) {
    const __m128i equal =
        _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)),
                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(literal.data())));
    const unsigned wanted = (1u << size) - 1;
    return (static_cast<unsigned>(_mm_movemask_epi8(equal)) & wanted) == wanted;
  }
#endif
  return std::memcmp(p, literal.data(), size) == 0;
}

/// A cursor over JSON text that accepts only strings with no escapes. Each call takes one token
/// (after any JSON whitespace) and returns false, taking nothing more, when the text is not that
/// token: the caller then gives the text to a full parser. A call does not look past its token:
/// the caller's next take() (or at_end()) is what rejects `truex` or `1x`. Every read is
/// bounds-checked; the text needs no padding. UTF-8 is not checked here.
class plain_json_cursor {
 public:
  explicit plain_json_cursor(std::string_view text) noexcept
      : begin_(text.data()),
        p_(text.data()),
        end_(text.data() + text.size()),
        class_(classify_plain_text(text)) {}
  /// For a text whose classify_plain_text() the caller has found already, in a pass it made
  /// anyway (a line reader looking for the newline).
  plain_json_cursor(std::string_view text, plain_text_class text_class) noexcept
      : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()), class_(text_class) {}

  /// True when the whole text has no backslash and no control byte (classify_plain_text): a
  /// string then ends at the next quote, found 16 bytes a step.
  bool clean() const noexcept { return class_.clean; }
  /// True when the whole text is clean and ASCII, so needs no UTF-8 check.
  bool ascii() const noexcept { return class_.ascii; }
  /// Where the next token is looked for. seek() moves there: to a position this cursor gave
  /// (a shortcut that failed goes back), or past bytes the caller has checked itself.
  const char* position() const noexcept { return p_; }
  void seek(const char* position) noexcept { p_ = position; }
  const char* begin() const noexcept { return begin_; }
  const char* end() const noexcept { return end_; }
  /// True when only whitespace is left.
  bool at_end() noexcept {
    skip_whitespace();
    return p_ == end_;
  }
  /// Takes the byte `c`.
  bool take(char c) noexcept {
    skip_whitespace();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  /// Takes a string with no escape and no control byte; `out` views its text, quotes excluded.
  bool plain_string(std::string_view& out) noexcept {
    if (!take('"')) return false;
    // When the whole text has no backslash or control byte, the next quote closes the string.
    const char* close = class_.clean ? find_quote(p_, end_, begin_) : unescaped_end();
    if (close == nullptr) return false;
    out = std::string_view(p_, static_cast<std::size_t>(close - p_));
    p_ = close + 1;
    return true;
  }
  /// Takes a string that may have escapes. A string with none is viewed in place, as by
  /// plain_string(); an escaped one is unescaped onto the end of `unescaped`, and `out` views it
  /// there. So that earlier views stay valid, `unescaped` must have room reserved for the rest of
  /// the text (unescaping never lengthens it): the call fails rather than reallocate. A `\u`
  /// escape of a lone surrogate, a control byte or a bad escape fails too (a full parser then
  /// decides). The bytes are not checked for UTF-8.
  bool json_string(std::string_view& out, std::string& unescaped);
  /// Takes `"name":`, a member's name and its colon.
  bool member_name(std::string_view& name) noexcept { return plain_string(name) && take(':'); }
  /// Takes any one JSON value whose strings are plain, nested about 16 deep at most, checking its
  /// grammar (numbers included) on the way.
  bool skip_value() noexcept { return skip_value(0); }

  /// Skips JSON whitespace.
  void skip_whitespace() noexcept {
    // Most tokens follow another directly: one test for them.
    if (p_ != end_ && static_cast<unsigned char>(*p_) > ' ') return;
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\r' || *p_ == '\n')) ++p_;
  }

 private:
  // The closing quote of the string at p_ when nothing before it needs an escape, else null.
  const char* unescaped_end() const noexcept;
  // At a backslash: appends what its escape stands for and takes it.
  bool take_escape(std::string& unescaped);
  bool skip_value(int depth) noexcept;
  bool take_word(std::string_view word) noexcept;
  bool take_number() noexcept;
  bool digits() noexcept;

  const char* begin_;
  const char* p_;
  const char* end_;
  plain_text_class class_;
};

}  // namespace promptpack
