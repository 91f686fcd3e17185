// `promptpack gateway` as a child process on a free loopback port, for end-to-end tests.
#pragma once

#include "common/child_process.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace promptpack::test {

/// Starts `binary gateway --listen 127.0.0.1:0 ARGS...` and reads the port from its first
/// stdout line (`listening on http://127.0.0.1:PORT`). port() is 0 when that line never came;
/// the child's stderr then says why. Stopped (SIGTERM, then SIGKILL) with the object.
class gateway_process {
 public:
  gateway_process(const std::string& binary, const std::vector<std::string>& args);

  std::uint16_t port() const { return port_; }
  /// http://127.0.0.1:PORT
  std::string url() const;
  child_process& process() { return child_; }

 private:
  child_process child_;
  std::uint16_t port_ = 0;
};

}  // namespace promptpack::test
