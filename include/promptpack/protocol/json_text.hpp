// Low-level API: JSON string escaping and UTF-8 validation, for tools that write protocol JSON.
#pragma once

#include <promptpack/protocol/write_buffer.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace promptpack {

/// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;

/// The length of the longest prefix of `text` that a JSON string carries as is: up to the first
/// `"`, `\` or byte below 0x20 (bytes >= 0x80 are not checked). 16 bytes a step.
std::size_t json_unescaped_prefix(std::string_view text) noexcept;

/// Appends `text` to `out` as a quoted JSON string: `"`, `\` and every byte below 0x20 escaped.
/// `text` must be valid UTF-8 (check with is_valid_utf8 first); bytes >= 0x80 are copied as is.
void append_json_string(std::string& out, std::string_view text);

/// As append_json_string, into a write_buffer, checking UTF-8 in the same pass (at almost no cost
/// over escaping alone). A `separator` other than 0 (a list's comma) is written first. Returns
/// false, leaving `out` as it was (separator included), when `text` is not valid UTF-8.
[[nodiscard]] bool append_json_string_if_utf8(write_buffer& out, std::string_view text,
                                              char separator = 0);

}  // namespace promptpack
