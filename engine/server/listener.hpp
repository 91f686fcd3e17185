// Opening a server's listening socket, with errors that say which flag to change.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace promptpack::server {

/// What to tell the user when listening fails, in the words of the command's flags.
struct listen_hints {
  std::string_view bad_address;  ///< e.g. "pass --host 127.0.0.1 or ::1"
  std::string_view bind_failed;  ///< e.g. "pick another --port (0 picks a free one)"
};

/// Opens `acceptor` (closed, on its executor) on host:port with SO_REUSEADDR and starts
/// listening. Returns the port bound (the one picked for port 0). Throws std::runtime_error
/// naming the address and the hint.
std::uint16_t listen_on(boost::asio::ip::tcp::acceptor& acceptor, const std::string& host,
                        std::uint16_t port, const listen_hints& hints);

}  // namespace promptpack::server
