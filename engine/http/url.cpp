// A strict parser for the two URL shapes an endpoint can have.
#include "http/url.hpp"

#include <charconv>

namespace promptpack::detail {

std::optional<endpoint_url> parse_endpoint_url(std::string_view url, std::string& error) {
  endpoint_url out;
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    out.tls = true;
    rest = url.substr(8);
  } else {
    error = "'" + std::string(url) + "' must start with http:// or https://";
    return std::nullopt;
  }
  const std::size_t path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view target = path_start == std::string_view::npos ? "" : rest.substr(path_start);
  if (const auto hash = target.find('#'); hash != std::string_view::npos)
    target = target.substr(0, hash);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    // The user info is not echoed: it may hold a password.
    error = "'" + std::string(url.substr(0, url.size() - rest.size())) + "...@" +
            std::string(rest.substr(at + 1)) +
            "' has user info; pass credentials with --api-key instead";
    return std::nullopt;
  }
  std::string_view port_text;
  if (authority.starts_with('[')) {  // IPv6 literal
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "'" + std::string(url) + "' has an unclosed [ in its host";
      return std::nullopt;
    }
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (after.starts_with(':'))
      port_text = after.substr(1);
    else if (!after.empty()) {
      error = "'" + std::string(url) + "' has text after its IPv6 host";
      return std::nullopt;
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) {
    error = "'" + std::string(url) + "' has no host";
    return std::nullopt;
  }
  out.port = out.tls ? 443 : 80;
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      error = "'" + std::string(url) + "' has a bad port '" + std::string(port_text) + "'";
      return std::nullopt;
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  out.port_text = std::to_string(out.port);
  // A URL with a query but no path ("http://h?q") still needs the path "/" in the request line.
  if (target.empty() || target.front() == '?') out.target = "/";
  out.target.append(target);
  out.host_header = std::string(authority);
  return out;
}

}  // namespace promptpack::detail
