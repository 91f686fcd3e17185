// Masks of newlines, JSON string specials and high bytes, 32 bytes a step (AVX2) or 16 (SSE2).
#include "run/line_scan.hpp"

#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__AVX2__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace promptpack::run {

namespace {

// One step of the scan: the bytes of a vector register (32 with AVX2, else 16), as masks with a
// bit per byte.
#if defined(__AVX2__)
struct step {
  static constexpr std::size_t width = 32;
  using bytes = __m256i;
  static bytes load(const char* p) noexcept {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  static bytes zero() noexcept { return _mm256_setzero_si256(); }
  static bytes either(bytes a, bytes b) noexcept { return _mm256_or_si256(a, b); }
  static std::uint32_t mask(bytes b) noexcept {
    return static_cast<std::uint32_t>(_mm256_movemask_epi8(b));
  }
  static bytes equal(bytes b, char c) noexcept { return _mm256_cmpeq_epi8(b, _mm256_set1_epi8(c)); }
  static bytes below_0x20(bytes b) noexcept {
    return _mm256_cmpeq_epi8(_mm256_min_epu8(b, _mm256_set1_epi8(0x1F)), b);
  }
};
#elif defined(__SSE2__)
struct step {
  static constexpr std::size_t width = 16;
  using bytes = __m128i;
  static bytes load(const char* p) noexcept {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  }
  static bytes zero() noexcept { return _mm_setzero_si128(); }
  static bytes either(bytes a, bytes b) noexcept { return _mm_or_si128(a, b); }
  static std::uint32_t mask(bytes b) noexcept {
    return static_cast<std::uint32_t>(_mm_movemask_epi8(b));
  }
  static bytes equal(bytes b, char c) noexcept { return _mm_cmpeq_epi8(b, _mm_set1_epi8(c)); }
  static bytes below_0x20(bytes b) noexcept {
    return _mm_cmpeq_epi8(_mm_min_epu8(b, _mm_set1_epi8(0x1F)), b);
  }
};
#endif

}  // namespace

static_assert(line_scan_overread >= 32, "the padding must cover one step past the end");

const char* scan_line(const char* p, const char* end, plain_text_class& text_class) noexcept {
#if defined(__AVX2__) || defined(__SSE2__)
  using bytes = step::bytes;
  // A backslash or a byte below 0x20 (the newline itself is one), as a byte mask.
  const auto specials_of = [](bytes b) {
    return step::either(step::below_0x20(b), step::equal(b, '\\'));
  };
  // The steps before the newline's only OR their bytes into two registers (one branch a step);
  // the step that holds the newline counts its bytes up to it alone.
  bytes specials = step::zero();
  bytes high = step::zero();  // the top bit of any byte >= 0x80
  const auto found = [&](bytes b, std::uint32_t newlines, const char* at) {
    const std::uint32_t before = (std::uint32_t{1} << std::countr_zero(newlines)) - 1;
    const bool clean = step::mask(specials) == 0 && (step::mask(specials_of(b)) & before) == 0;
    const bool ascii = step::mask(high) == 0 && (step::mask(b) & before) == 0;
    text_class = {.clean = clean, .ascii = clean && ascii};
    return at + std::countr_zero(newlines);
  };
  for (; static_cast<std::size_t>(end - p) >= step::width; p += step::width) {
    const bytes b = step::load(p);
    if (const std::uint32_t newlines = step::mask(step::equal(b, '\n')); newlines != 0)
      return found(b, newlines, p);
    specials = step::either(specials, specials_of(b));
    high = step::either(high, b);
  }
  if (p == end) return nullptr;
  // The last bytes, fewer than a step: read a whole step (the caller's padding), count those
  // before `end`.
  const bytes b = step::load(p);
  const std::uint32_t newlines =
      step::mask(step::equal(b, '\n')) & ((std::uint32_t{1} << (end - p)) - 1);
  return newlines != 0 ? found(b, newlines, p) : nullptr;
#else
  const void* newline = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
  if (newline == nullptr) return nullptr;
  const char* stop = static_cast<const char*>(newline);
  text_class = classify_plain_text({p, static_cast<std::size_t>(stop - p)});
  return stop;
#endif
}

std::size_t count_newlines(const char* p, const char* end) noexcept {
  std::size_t count = 0;
#if defined(__AVX2__) || defined(__SSE2__)
  for (; static_cast<std::size_t>(end - p) >= step::width; p += step::width)
    count += static_cast<std::size_t>(std::popcount(step::mask(step::equal(step::load(p), '\n'))));
#endif
  for (; p != end; ++p) count += *p == '\n' ? 1 : 0;
  return count;
}

}  // namespace promptpack::run
