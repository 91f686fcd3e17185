// A bare loopback TCP connection for tests that misbehave on purpose: partial requests, silence,
// bytes trickled one at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace promptpack::test {

/// One blocking connection to 127.0.0.1:port (TCP_NODELAY, so every send leaves at once). Every
/// wait has a deadline. Throws std::system_error if it cannot connect.
class raw_socket {
 public:
  explicit raw_socket(std::uint16_t port);
  ~raw_socket();
  raw_socket(raw_socket&& other) noexcept;
  raw_socket& operator=(raw_socket&&) = delete;
  raw_socket(const raw_socket&) = delete;
  raw_socket& operator=(const raw_socket&) = delete;

  /// Sends every byte; false when the peer has closed or reset the connection.
  bool send(std::string_view bytes);
  /// Reads until the peer closes (end of stream or reset), for at most `within`: true if it
  /// closed. What arrives meanwhile is kept in received(). A zero `within` only looks.
  bool closed_within(std::chrono::milliseconds within);
  const std::string& received() const { return received_; }

 private:
  int fd_ = -1;
  std::string received_;
};

}  // namespace promptpack::test
