// Masks of newlines, JSON string specials and high bytes, 32 bytes a step with AVX2 (the default
// build); a build without it searches with memchr and classifies apart.
#include "run/line_scan.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace promptpack::run {

static_assert(line_scan_overread >= 32, "the padding must cover one step past the end");

#if defined(__AVX2__)
namespace {

__m256i load32(const char* p) noexcept {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

std::uint32_t mask_of(__m256i bytes) noexcept {
  return static_cast<std::uint32_t>(_mm256_movemask_epi8(bytes));
}

std::uint32_t newlines_of(__m256i bytes) noexcept {
  return mask_of(_mm256_cmpeq_epi8(bytes, _mm256_set1_epi8('\n')));
}

// A backslash or a byte below 0x20 (the newline itself is one), as a byte mask.
__m256i specials_of(__m256i bytes) noexcept {
  const __m256i control = _mm256_cmpeq_epi8(_mm256_min_epu8(bytes, _mm256_set1_epi8(0x1F)), bytes);
  return _mm256_or_si256(control, _mm256_cmpeq_epi8(bytes, _mm256_set1_epi8('\\')));
}

}  // namespace

const char* scan_line(const char* p, const char* end, plain_text_class& text_class) noexcept {
  // The steps before the newline's only OR their bytes into two registers (one branch a step);
  // the step that holds the newline counts its bytes up to it alone.
  __m256i specials = _mm256_setzero_si256();
  __m256i high = _mm256_setzero_si256();  // the top bit of any byte >= 0x80
  const auto found = [&](__m256i bytes, std::uint32_t newlines, const char* at) {
    const std::uint32_t before = (std::uint32_t{1} << std::countr_zero(newlines)) - 1;
    const bool clean = mask_of(specials) == 0 && (mask_of(specials_of(bytes)) & before) == 0;
    const bool ascii = mask_of(high) == 0 && (mask_of(bytes) & before) == 0;
    text_class = {.clean = clean, .ascii = clean && ascii};
    return at + std::countr_zero(newlines);
  };
  for (; end - p >= 32; p += 32) {
    const __m256i bytes = load32(p);
    if (const std::uint32_t newlines = newlines_of(bytes); newlines != 0)
      return found(bytes, newlines, p);
    specials = _mm256_or_si256(specials, specials_of(bytes));
    high = _mm256_or_si256(high, bytes);
  }
  if (p == end) return nullptr;
  // The last 1-31 bytes: read a whole step (the caller's padding), count those before `end`.
  const __m256i bytes = load32(p);
  const std::uint32_t newlines = newlines_of(bytes) & ((std::uint32_t{1} << (end - p)) - 1);
  return newlines != 0 ? found(bytes, newlines, p) : nullptr;
}

std::size_t count_newlines(const char* p, const char* end) noexcept {
  std::size_t count = 0;
  for (; end - p >= 32; p += 32)
    count += static_cast<std::size_t>(std::popcount(newlines_of(load32(p))));
  return count + static_cast<std::size_t>(std::count(p, end, '\n'));
}

#else

const char* scan_line(const char* p, const char* end, plain_text_class& text_class) noexcept {
  const void* newline = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
  if (newline == nullptr) return nullptr;
  const char* stop = static_cast<const char*>(newline);
  text_class = classify_plain_text({p, static_cast<std::size_t>(stop - p)});
  return stop;
}

std::size_t count_newlines(const char* p, const char* end) noexcept {
  return static_cast<std::size_t>(std::count(p, end, '\n'));
}

#endif

}  // namespace promptpack::run
