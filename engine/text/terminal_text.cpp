// Escapes the control characters of untrusted text before it reaches a terminal or a log.
#include "text/terminal_text.hpp"

#include <cstddef>

namespace promptpack::detail {
namespace {

void append_hex_escape(std::string& out, std::string_view prefix, unsigned char byte) {
  static constexpr char hex_digits[] = "0123456789abcdef";
  out.append(prefix);
  out.push_back(hex_digits[byte >> 4]);
  out.push_back(hex_digits[byte & 15]);
}

void append_ascii_control_escape(std::string& out, unsigned char byte) {
  switch (byte) {
    case '\n':
      out.append("\\n");
      return;
    case '\r':
      out.append("\\r");
      return;
    case '\t':
      out.append("\\t");
      return;
    default:
      append_hex_escape(out, "\\x", byte);
  }
}

// The length of the well-formed UTF-8 sequence of 2 to 4 bytes that starts `text`, or 0. The
// bounds of the second byte rule out overlong forms, surrogates and code points past U+10FFFF.
std::size_t utf8_sequence_length(std::string_view text) {
  const auto lead = static_cast<unsigned char>(text[0]);
  std::size_t length = 0;
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) second_min = 0xa0;
    if (lead == 0xed) second_max = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) second_min = 0x90;
    if (lead == 0xf4) second_max = 0x8f;
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  const auto second = static_cast<unsigned char>(text[1]);
  if (second < second_min || second > second_max) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xc0) != 0x80) return 0;
  }
  return length;
}

}  // namespace

std::string escape_for_terminal(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte < 0x7f) {
      out.push_back(text[i]);
      ++i;
    } else if (byte < 0x80) {
      append_ascii_control_escape(out, byte);
      ++i;
    } else if (const std::size_t length = utf8_sequence_length(text.substr(i)); length == 0) {
      append_hex_escape(out, "\\x", byte);
      ++i;
    } else {
      // U+0080..U+009F are 0xc2 followed by the code point's own low byte.
      const auto second = static_cast<unsigned char>(text[i + 1]);
      if (byte == 0xc2 && second < 0xa0) {
        append_hex_escape(out, "\\u00", second);
      } else {
        out.append(text.substr(i, length));
      }
      i += length;
    }
  }
  return out;
}

}  // namespace promptpack::detail
