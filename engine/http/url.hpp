// Splits an api_base URL into what a connection needs: scheme, host, port and request target.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace promptpack::detail {

struct endpoint_url {
  bool tls = false;
  std::string host;         ///< without brackets, for resolving, SNI and certificate checks
  std::uint16_t port = 0;   ///< explicit, or 80 / 443
  std::string port_text;    ///< port as text, for the resolver
  std::string target;       ///< path and query exactly as given; "/" when the URL has no path
  std::string host_header;  ///< Host: header value (brackets and non-default port kept)
};

/// Parses http(s)://host[:port][/path][?query]. On failure returns nullopt and sets `error` to
/// what is wrong with the URL.
std::optional<endpoint_url> parse_endpoint_url(std::string_view url, std::string& error);

}  // namespace promptpack::detail
