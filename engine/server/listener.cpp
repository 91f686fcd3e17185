// Binds and listens, turning each failure into one message with its remedy.
#include "server/listener.hpp"

#include <boost/asio/ip/address.hpp>

#include <stdexcept>

namespace promptpack::server {

std::uint16_t listen_on(boost::asio::ip::tcp::acceptor& acceptor, const std::string& host,
                        std::uint16_t port, const listen_hints& hints) {
  namespace asio = boost::asio;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on '" + host + "': not an IP address; " +
                             std::string(hints.bad_address));
  }
  const asio::ip::tcp::endpoint endpoint(address, port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                             ec.message() + "; " + std::string(hints.bind_failed));
  }
  return acceptor.local_endpoint().port();
}

}  // namespace promptpack::server
