// Starts the gateway binary and parses the address it announces.
#include "common/gateway_process.hpp"

namespace promptpack::test {
namespace {

std::vector<std::string> gateway_args(const std::vector<std::string>& args) {
  std::vector<std::string> all{"gateway", "--listen", "127.0.0.1:0"};
  all.insert(all.end(), args.begin(), args.end());
  return all;
}

std::uint16_t port_of(const std::string& line) {
  const std::string prefix = "listening on http://127.0.0.1:";
  if (!line.starts_with(prefix)) return 0;
  const std::string digits = line.substr(prefix.size());
  if (digits.empty() || digits.size() > 5 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    return 0;
  }
  const unsigned long port = std::stoul(digits);
  return port <= 65535 ? static_cast<std::uint16_t>(port) : 0;
}

}  // namespace

gateway_process::gateway_process(const std::string& binary, const std::vector<std::string>& args)
    : child_(binary, gateway_args(args)), port_(port_of(child_.read_stdout_line())) {}

std::string gateway_process::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

}  // namespace promptpack::test
