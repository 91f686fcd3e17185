// Builds the test CA with the openssl command line tool (installed by scripts/setup.sh).
#include "common/test_ca.hpp"

#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>

namespace promptpack::test {
namespace {

void run(const std::string& command) {
  if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) {
    throw std::runtime_error("test CA: command failed: " + command);
  }
}

}  // namespace

test_ca::test_ca(const std::string& server_name) {
  std::random_device rd;
  dir_ = std::filesystem::temp_directory_path() / ("promptpack-ca-" + std::to_string(rd()));
  std::filesystem::create_directories(dir_);
  const std::string d = dir_.string() + "/";
  std::ofstream(d + "ext.cnf") << "subjectAltName=DNS:" << server_name << ",IP:127.0.0.1\n";
  const std::string ec_key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  run("openssl req -x509 " + ec_key + " -keyout " + d + "ca.key -out " + d +
      "ca.pem -days 2 -subj '/CN=promptpack test CA'");
  run("openssl req " + ec_key + " -keyout " + d + "server.key -out " + d +
      "server.csr -subj '/CN=" + server_name + "'");
  run("openssl x509 -req -in " + d + "server.csr -CA " + d + "ca.pem -CAkey " + d +
      "ca.key -CAcreateserial -out " + d + "server.pem -days 2 -extfile " + d + "ext.cnf");
}

test_ca::~test_ca() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

}  // namespace promptpack::test
