// A plain blocking Beast client for tests: raw requests to a server over one keep-alive connection.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

namespace promptpack::test {

struct probe_response {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  ///< lower-cased names
  bool keep_alive = false;
};

/// One connection (http, or https verified against `ca_file`). Independent of the engine under
/// test, so that the server can be checked on its own. Throws boost::system::system_error.
class http_probe {
 public:
  http_probe(std::uint16_t port, std::optional<std::string> ca_file = std::nullopt);
  ~http_probe();

  probe_response post(const std::string& target, const std::string& body);
  probe_response get(const std::string& target);
  /// Sends the request and reports whether the server closed the connection without answering.
  bool post_expect_close(const std::string& target, const std::string& body);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace promptpack::test
