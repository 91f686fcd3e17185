// Splits HOST:PORT (brackets around an IPv6 host) and checks the port.
#include "gateway/listen_address.hpp"

#include <charconv>
#include <stdexcept>

namespace promptpack::gateway {

listen_address parse_listen_address(std::string_view text) {
  const auto bad = [text]() {
    return std::invalid_argument("--listen '" + std::string(text) +
                                 "' must be HOST:PORT, e.g. 127.0.0.1:8080, 0.0.0.0:8080 or "
                                 "[::1]:8080 (port 0 picks a free one)");
  };
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) throw bad();
  std::string_view host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') throw bad();
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    throw bad();  // an IPv6 address needs its brackets, or its last group passes for the port
  }
  const std::string_view digits = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (digits.empty() || error != std::errc{} || end != digits.data() + digits.size() ||
      port > 65535) {
    throw bad();
  }
  return {std::string(host), static_cast<std::uint16_t>(port)};
}

std::string http_url(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace promptpack::gateway
