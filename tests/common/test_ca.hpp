// Test-time TLS material: a throwaway CA and a server certificate it signs, made with openssl.
#pragma once

#include <filesystem>
#include <string>

namespace promptpack::test {

/// A fresh CA plus a server certificate for `localhost` and 127.0.0.1, in a temporary folder
/// removed on destruction. Throws std::runtime_error when the openssl command fails.
class test_ca {
 public:
  explicit test_ca(const std::string& server_name = "localhost");
  ~test_ca();
  test_ca(const test_ca&) = delete;
  test_ca& operator=(const test_ca&) = delete;

  std::filesystem::path ca_cert() const { return dir_ / "ca.pem"; }
  std::filesystem::path server_cert() const { return dir_ / "server.pem"; }
  std::filesystem::path server_key() const { return dir_ / "server.key"; }

 private:
  std::filesystem::path dir_;
};

}  // namespace promptpack::test
