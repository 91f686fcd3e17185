// Which client serves which model: one promptpack::client per route, all on the gateway's
// io_context.
#pragma once

#include <promptpack/client.hpp>
#include <promptpack/client_config.hpp>
#include <promptpack/client_stats.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace promptpack::gateway {

/// A model and the endpoints that serve it.
struct route_spec {
  std::string model;  ///< as callers name it; `custom/` is optional on either side
  std::vector<endpoint_config> endpoints;
};

/// Reads `--route NAME=URL`. Throws std::invalid_argument saying what the flag should look like.
route_spec parse_route(std::string_view text);

/// The models the gateway serves. Immutable once built: lookups need no lock.
class route_table {
 public:
  /// One client per model, in its executor form on `executor`, with `base`'s settings (batching,
  /// connections, timeouts, key) and the route's endpoints. Routes that name the same model
  /// share one client and its endpoints. Throws std::invalid_argument as client's constructor
  /// does, naming the route.
  route_table(boost::asio::any_io_executor executor, const client_config& base,
              const std::vector<route_spec>& routes);

  /// The client that serves `model`, or nullptr. `custom/` is ignored on either side, so
  /// `custom/llama` and `llama` are the same model.
  client* find(std::string_view model) const noexcept;

  /// The body of GET /v1/models: an OpenAI `list` of `model` objects.
  const std::string& models_json() const noexcept { return models_json_; }

  /// Every client's counters, in route order, for /metrics.
  std::vector<client_stats> stats() const;

  /// Completes every prompt still pending with `cancelled`, without waiting (the grace period is
  /// over).
  void cancel_all();
  /// Finishes every client's pending prompts and closes its connections.
  boost::asio::awaitable<void> shutdown();

 private:
  struct route {
    std::string model;  // without `custom/`
    std::unique_ptr<client> upstream;
  };
  std::vector<route> routes_;
  std::string models_json_;
};

}  // namespace promptpack::gateway
