// Builds requests and parses close-delimited answers for raw_http's exchanges.
#include "common/raw_http.hpp"

#include "common/raw_socket.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace promptpack::test {

std::string http_request(std::string_view method, std::string_view target, std::string_view body,
                         const header_list& headers) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: localhost\r\n");
  out.append("Connection: close\r\n");
  for (const auto& [name, value] : headers) out.append(name).append(": ").append(value) += "\r\n";
  if (!body.empty()) {
    out.append("Content-Type: application/json\r\nContent-Length: ");
    out.append(std::to_string(body.size())).append("\r\n");
  }
  out.append("\r\n").append(body);
  return out;
}

probe_response parse_http_response(const std::string& received) {
  probe_response out;
  const auto head_end = received.find("\r\n\r\n");
  if (!received.starts_with("HTTP/1.") || head_end == std::string::npos) return out;
  out.status = std::atoi(received.c_str() + received.find(' ') + 1);
  std::size_t line = received.find("\r\n") + 2;
  while (line < head_end) {
    const auto end = received.find("\r\n", line);
    const auto colon = received.find(':', line);
    if (colon != std::string::npos && colon < end) {
      std::string name = received.substr(line, colon - line);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = received.substr(colon + 1, end - colon - 1);
      value.erase(0, value.find_first_not_of(' '));
      out.headers[name] = value;
    }
    line = end + 2;
  }
  out.body = received.substr(head_end + 4);
  if (const auto length = out.headers.find("content-length"); length != out.headers.end()) {
    out.body.resize(std::min<std::size_t>(out.body.size(), std::stoul(length->second)));
  }
  out.keep_alive = out.headers["connection"] != "close";
  return out;
}

probe_response http_exchange(std::uint16_t port, std::string_view request,
                             std::chrono::milliseconds within) {
  raw_socket connection(port);
  if (!connection.send(request)) return {};
  connection.closed_within(within);
  return parse_http_response(connection.received());
}

}  // namespace promptpack::test
