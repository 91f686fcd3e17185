// An in-process reference endpoint on a free loopback port, started for one test.
#pragma once

#include "reference/reference_server.hpp"

#include <string>

namespace promptpack::test {

/// Starts `promptpack serve`'s server on 127.0.0.1:0 with the given config; stops it on exit.
struct running_server {
  explicit running_server(reference::reference_config config = {})
      : server(make(std::move(config))) {
    server.start();
  }
  std::uint16_t port() const { return server.port(); }
  std::string url(const std::string& path = "/inference") const { return server.url() + path; }

  reference::reference_server server;

 private:
  static reference::reference_config make(reference::reference_config config) {
    config.host = "127.0.0.1";
    config.port = 0;
    return config;
  }
};

}  // namespace promptpack::test
