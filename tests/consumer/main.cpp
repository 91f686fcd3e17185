// Uses the installed promptpack: a Client against a port with nothing listening must give a typed
// connection error, which proves headers, library and dependencies all link and run.
#include <promptpack/client.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  promptpack::ClientConfig config;
  config.endpoints = {{argc > 1 ? argv[1] : "http://127.0.0.1:9/inference", 1.0}};
  config.model = "custom/consumer";
  config.max_retries = 0;
  promptpack::Client client(config);
  const promptpack::Completion result = client.complete("hello", config.params);
  if (result.ok() || result.error->type != promptpack::errc::connection) {
    std::fprintf(stderr, "consumer: expected a connection error\n");
    return 1;
  }
  std::printf("consumer: got the expected error: %s\n", result.error->message.c_str());
  return 0;
}
