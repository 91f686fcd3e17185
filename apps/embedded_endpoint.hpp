// The embedded default endpoint: the reference server, in-process on a loopback port.
#pragma once

#include "reference/reference_server.hpp"

#include <memory>
#include <string>

namespace promptpack::cli {

/// A running reference server and the api_base that reaches it.
struct embedded_endpoint {
  std::unique_ptr<reference::reference_server> server;
  std::string api_base;
};

/// Starts the reference server on 127.0.0.1 with a free port, and says so on stderr (`who` names
/// the command), since the user gave no --api-base.
embedded_endpoint start_embedded_endpoint(const std::string& who, reference::generator_kind kind,
                                          unsigned threads = 1);
/// As above, with every setting of the reference server (its latency model, say); the host and
/// port are replaced by 127.0.0.1 and a free port.
embedded_endpoint start_embedded_endpoint(const std::string& who,
                                          reference::reference_config config);

}  // namespace promptpack::cli
