// Starts the embedded reference endpoint used when no --api-base is given.
#include "embedded_endpoint.hpp"

#include <iostream>

namespace promptpack::cli {

embedded_endpoint start_embedded_endpoint(const std::string& who, reference::generator_kind kind,
                                          unsigned threads) {
  reference::reference_config config;
  config.threads = threads;
  config.generator = kind;
  return start_embedded_endpoint(who, std::move(config));
}

embedded_endpoint start_embedded_endpoint(const std::string& who,
                                          reference::reference_config config) {
  config.host = "127.0.0.1";
  config.port = 0;
  embedded_endpoint out{std::make_unique<reference::reference_server>(config), {}};
  out.server->start();
  out.api_base = out.server->url() + "/inference";
  std::cerr << "promptpack " << who
            << ": no --api-base given; using the embedded reference endpoint at " << out.api_base
            << "\n";
  return out;
}

}  // namespace promptpack::cli
