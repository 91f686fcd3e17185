// Starts the gateway binary and parses the address it announces.
#include "common/gateway_process.hpp"

namespace promptpack::test {
namespace {

std::vector<std::string> gateway_args(const std::vector<std::string>& args) {
  std::vector<std::string> all{"gateway", "--listen", "127.0.0.1:0"};
  all.insert(all.end(), args.begin(), args.end());
  return all;
}

}  // namespace

gateway_process::gateway_process(const std::string& binary, const std::vector<std::string>& args)
    : child_(binary, gateway_args(args)), port_(announced_port(child_.read_stdout_line())) {}

std::string gateway_process::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

}  // namespace promptpack::test
