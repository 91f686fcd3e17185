// One pass over a line: where it ends, and what classify_plain_text() would say of its text.
#pragma once

#include <promptpack/protocol/plain_json.hpp>

#include <cstddef>

namespace promptpack::run {

/// Bytes scan_line() may read past `end`: the line reader keeps at least this much padding.
constexpr std::size_t line_scan_overread = 32;

/// The first '\n' in [p, end), or null; when found, `text_class` is classify_plain_text() of
/// [p, newline). With AVX2 the bytes are read 32 at a time, up to 31 past `end` (never used): the
/// caller guarantees line_scan_overread readable bytes there. Finding the newline and classifying
/// the line in one pass spares the parser a second pass over every byte of every line.
const char* scan_line(const char* p, const char* end, plain_text_class& text_class) noexcept;

/// How many '\n' bytes [p, end) holds, 32 a step with AVX2 (std::count went a byte at a time).
std::size_t count_newlines(const char* p, const char* end) noexcept;

}  // namespace promptpack::run
