// --listen HOST:PORT, read into the address the gateway binds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace promptpack::gateway {

struct listen_address {
  std::string host;  ///< an IP address; IPv6 without its brackets
  std::uint16_t port = 0;
};

/// Reads `HOST:PORT` (`[::1]:8080` for IPv6; port 0 picks a free one). Throws
/// std::invalid_argument saying what the flag should look like.
listen_address parse_listen_address(std::string_view text);

/// `http://HOST:PORT`, the IPv6 host in brackets.
std::string http_url(const std::string& host, std::uint16_t port);

}  // namespace promptpack::gateway
