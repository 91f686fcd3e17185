// Byte-level checks of the configured text that is written into request lines and headers.
#include "client/config_check.hpp"

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace promptpack::detail {
namespace {

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

// RFC 9110 section 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
// "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA.
constexpr std::string_view token_punctuation = "!#$%&'*+-.^_`|~";

bool is_token_char(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         token_punctuation.find(static_cast<char>(c)) != std::string_view::npos;
}

// A byte as a message names it, with its position counted from 1: "CR at byte 2".
std::string describe(unsigned char c, std::size_t index) {
  std::string name;
  switch (c) {
    case '\r':
      name = "CR";
      break;
    case '\n':
      name = "LF";
      break;
    case '\0':
      name = "NUL";
      break;
    case '\t':
      name = "HTAB";
      break;
    case ' ':
      name = "a space";
      break;
    case 0x7f:
      name = "DEL";
      break;
    default:
      if (c > 0x20 && c < 0x7f) {
        name = std::string("'") + static_cast<char>(c) + "'";
      } else {
        static constexpr char hex_digits[] = "0123456789abcdef";
        name = std::string("0x") + hex_digits[c >> 4] + hex_digits[c & 15];
      }
  }
  return name + " at byte " + std::to_string(index + 1);
}

// HTAB passes when `tab_allowed`: RFC 9110 lets it stand inside a header value.
void refuse_control_characters(std::string_view text, const std::string& setting,
                               bool tab_allowed) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (!is_control(c) || (tab_allowed && c == '\t')) continue;
    throw std::invalid_argument(setting + " contains a control character (" + describe(c, i) +
                                "); remove it");
  }
}

void refuse_bad_header_name(std::string_view name, const std::string& setting) {
  if (name.empty()) throw std::invalid_argument(setting + " is empty; give the header a name");
  refuse_control_characters(name, setting, false);
  for (std::size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (is_token_char(c)) continue;
    throw std::invalid_argument(setting + " holds " + describe(c, i) +
                                ", which no HTTP header name may hold; use only letters, digits "
                                "and " +
                                std::string(token_punctuation));
  }
}

}  // namespace

void check_request_fields(const client_config& config) {
  refuse_control_characters(config.api_key, "client_config.api_key", false);
  for (std::size_t i = 0; i < config.headers.size(); ++i) {
    const std::string setting = "client_config.headers[" + std::to_string(i) + "]";
    refuse_bad_header_name(config.headers[i].first, setting + " name");
    refuse_control_characters(config.headers[i].second, setting + " value", true);
  }
  for (std::size_t i = 0; i < config.endpoints.size(); ++i) {
    refuse_control_characters(config.endpoints[i].api_base,
                              "client_config.endpoints[" + std::to_string(i) + "].api_base", false);
  }
}

}  // namespace promptpack::detail
