// Builds the model -> client table from --model/--api-base and --route, and the /v1/models list.
#include "gateway/route_table.hpp"

#include <promptpack/protocol/json_text.hpp>
#include <promptpack/protocol/request_writer.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace promptpack::gateway {

route_spec parse_route(std::string_view text) {
  const auto equals = text.find('=');
  if (equals == std::string_view::npos || equals == 0 || equals + 1 == text.size()) {
    throw std::invalid_argument(
        "--route '" + std::string(text) +
        "' must look like NAME=URL, e.g. llama=http://10.0.0.5:8000/inference");
  }
  return {std::string(text.substr(0, equals)), {{std::string(text.substr(equals + 1)), 1.0}}};
}

route_table::route_table(boost::asio::any_io_executor executor, const client_config& base,
                         const std::vector<route_spec>& routes) {
  std::vector<route_spec> merged;
  for (const auto& spec : routes) {
    const auto model = strip_custom_prefix(spec.model);
    auto same = std::find_if(merged.begin(), merged.end(), [model](const route_spec& m) {
      return strip_custom_prefix(m.model) == model;
    });
    if (same == merged.end()) {
      merged.push_back(spec);
    } else {
      same->endpoints.insert(same->endpoints.end(), spec.endpoints.begin(), spec.endpoints.end());
    }
  }
  const auto created = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  models_json_ = R"({"object":"list","data":[)";
  for (auto& spec : merged) {
    client_config config = base;
    config.model = spec.model;
    config.endpoints = std::move(spec.endpoints);
    const std::string model(strip_custom_prefix(spec.model));
    if (model.empty() || !is_valid_utf8(model)) {
      throw std::invalid_argument("model name '" + spec.model +
                                  "' must be non-empty UTF-8 text (--model or --route NAME=URL)");
    }
    try {
      routes_.push_back({model, std::make_unique<client>(executor, std::move(config))});
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("model '" + model + "': " + e.what());
    }
    if (routes_.size() > 1) models_json_.push_back(',');
    models_json_ += R"({"id":)";
    append_json_string(models_json_, model);
    models_json_ += R"(,"object":"model","created":)" + std::to_string(created) +
                    R"(,"owned_by":"promptpack"})";
  }
  models_json_ += "]}";
}

client* route_table::find(std::string_view model) const noexcept {
  model = strip_custom_prefix(model);
  for (const auto& r : routes_) {
    if (r.model == model) return r.upstream.get();
  }
  return nullptr;
}

std::vector<client_stats> route_table::stats() const {
  std::vector<client_stats> out;
  out.reserve(routes_.size());
  for (const auto& r : routes_) out.push_back(r.upstream->stats());
  return out;
}

void route_table::cancel_all() {
  for (auto& r : routes_) r.upstream->async_shutdown(shutdown_mode::cancel, boost::asio::detached);
}

boost::asio::awaitable<void> route_table::shutdown() {
  for (auto& r : routes_) {
    co_await r.upstream->async_shutdown(shutdown_mode::drain,
                                        boost::asio::as_tuple(boost::asio::use_awaitable));
  }
}

}  // namespace promptpack::gateway
