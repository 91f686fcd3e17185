// Counting requests, prompts and upstream outcomes, and writing them in the Prometheus text format.
#include "gateway/gateway_metrics.hpp"

#include <algorithm>

namespace promptpack::gateway {
namespace {

double seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// Latency buckets from 1 ms (a batch that went at once) to a minute (an endpoint in trouble).
std::vector<double> latency_bounds() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

void append_header(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ");
  out.append(name).append(" ").append(type).push_back('\n');
}

void append_value(std::string& out, std::string_view name, std::uint64_t value) {
  out.append(name).append(" ").append(std::to_string(value)).push_back('\n');
}

}  // namespace

std::string_view route_path(gateway_route route) noexcept {
  switch (route) {
    case gateway_route::chat_completions:
      return "/v1/chat/completions";
    case gateway_route::completions:
      return "/v1/completions";
    case gateway_route::models:
      return "/v1/models";
    case gateway_route::health:
      return "/health";
    case gateway_route::metrics:
      return "/metrics";
    case gateway_route::unknown:
      break;
  }
  return "other";
}

gateway_metrics::gateway_metrics()
    : request_seconds_(latency_bounds()),
      upstream_seconds_(latency_bounds()),
      prompts_per_request_({1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096}) {}

void gateway_metrics::request_started() noexcept {
  in_flight_.fetch_add(1, std::memory_order_relaxed);
}

void gateway_metrics::request_finished(gateway_route route, unsigned status,
                                       std::chrono::steady_clock::duration latency) noexcept {
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  const auto known = std::find(statuses.begin(), statuses.end(), status);
  const auto column = static_cast<std::size_t>(known - statuses.begin());
  requests_[static_cast<std::size_t>(route)][column].fetch_add(1, std::memory_order_relaxed);
  request_seconds_.observe(seconds(latency));
}

void gateway_metrics::prompts_submitted(std::size_t count) noexcept {
  prompts_.fetch_add(count, std::memory_order_relaxed);
}

void gateway_metrics::upstream_answered(std::chrono::steady_clock::duration latency) noexcept {
  upstream_seconds_.observe(seconds(latency));
}

void gateway_metrics::upstream_failed(errc type) noexcept {
  const auto index = static_cast<std::size_t>(type);
  if (index < error_types) upstream_errors_[index].fetch_add(1, std::memory_order_relaxed);
}

void gateway_metrics::render(std::string& out, std::size_t queue_depth,
                             const std::vector<client_stats>& upstream) {
  std::lock_guard lock(render_mutex_);
  last_scrape_.resize(upstream.size());
  client_stats total;
  for (std::size_t i = 0; i < upstream.size(); ++i) {
    const auto& now = upstream[i];
    auto& before = last_scrape_[i];
    // The client counts its requests by size class (1, 2, 3-4, ..., 2049-4096, more), whose
    // ends are this histogram's bounds: the buckets are exact, and so is the sum.
    const double prompts = static_cast<double>(now.prompts_sent - before.prompts_sent);
    bool sum_added = false;
    for (std::size_t c = 0; c < now.requests_by_prompts.size(); ++c) {
      const std::uint64_t requests = now.requests_by_prompts[c] - before.requests_by_prompts[c];
      if (requests == 0) continue;
      prompts_per_request_.add_counted(static_cast<double>(std::uint64_t{1} << c), requests,
                                       sum_added ? 0.0 : prompts);
      sum_added = true;
    }
    before = now;
    total.requests_sent += now.requests_sent;
    total.prompts_sent += now.prompts_sent;
    total.requests_retried += now.requests_retried;
    total.requests_in_flight += now.requests_in_flight;
    total.prompts_pending += now.prompts_pending;
  }

  append_header(out, "promptpack_gateway_requests_total", "counter",
                "HTTP requests answered, by route and status (499: the caller hung up first)");
  for (std::size_t route = 0; route < gateway_route_count; ++route) {
    for (std::size_t column = 0; column <= statuses.size(); ++column) {
      const auto count = requests_[route][column].load(std::memory_order_relaxed);
      if (count == 0) continue;
      out.append("promptpack_gateway_requests_total{route=\"");
      out.append(route_path(static_cast<gateway_route>(route))).append("\",status=\"");
      out.append(column < statuses.size() ? std::to_string(statuses[column]) : "other");
      out.append("\"} ").append(std::to_string(count)).push_back('\n');
    }
  }
  append_header(out, "promptpack_gateway_requests_in_flight", "gauge",
                "HTTP requests read and not yet answered");
  append_value(out, "promptpack_gateway_requests_in_flight",
               in_flight_.load(std::memory_order_relaxed));
  append_header(out, "promptpack_gateway_request_duration_seconds", "histogram",
                "from a request read whole to its answer");
  request_seconds_.append(out, "promptpack_gateway_request_duration_seconds");
  append_header(out, "promptpack_gateway_prompts_total", "counter",
                "prompts submitted by callers (a text completion may carry several)");
  append_value(out, "promptpack_gateway_prompts_total", prompts_.load(std::memory_order_relaxed));
  append_header(out, "promptpack_gateway_queue_depth", "gauge",
                "prompts queued or in flight at the gateway (bounded by --max-queue)");
  append_value(out, "promptpack_gateway_queue_depth", queue_depth);

  append_header(out, "promptpack_gateway_upstream_requests_total", "counter",
                "requests sent to the endpoints, resends included");
  append_value(out, "promptpack_gateway_upstream_requests_total", total.requests_sent);
  append_header(out, "promptpack_gateway_upstream_prompts_total", "counter",
                "prompts in those requests, resends included");
  append_value(out, "promptpack_gateway_upstream_prompts_total", total.prompts_sent);
  append_header(out, "promptpack_gateway_upstream_retries_total", "counter",
                "requests sent again after a failure");
  append_value(out, "promptpack_gateway_upstream_retries_total", total.requests_retried);
  append_header(out, "promptpack_gateway_upstream_requests_in_flight", "gauge",
                "requests on the wire to the endpoints");
  append_value(out, "promptpack_gateway_upstream_requests_in_flight", total.requests_in_flight);
  append_header(out, "promptpack_gateway_upstream_prompts_pending", "gauge",
                "prompts accepted by the clients and not yet answered");
  append_value(out, "promptpack_gateway_upstream_prompts_pending", total.prompts_pending);
  append_header(out, "promptpack_gateway_upstream_prompts_per_request", "histogram",
                "prompts per upstream request");
  prompts_per_request_.append(out, "promptpack_gateway_upstream_prompts_per_request");
  append_header(out, "promptpack_gateway_upstream_duration_seconds", "histogram",
                "from a request's prompts submitted to their last answer: batching wait and "
                "upstream exchange");
  upstream_seconds_.append(out, "promptpack_gateway_upstream_duration_seconds");
  append_header(out, "promptpack_gateway_upstream_errors_total", "counter",
                "prompts that failed upstream, by error type");
  for (std::size_t type = 1; type < error_types; ++type) {
    out.append("promptpack_gateway_upstream_errors_total{type=\"");
    out.append(to_string(static_cast<errc>(type))).append("\"} ");
    out.append(std::to_string(upstream_errors_[type].load(std::memory_order_relaxed)));
    out.push_back('\n');
  }
}

}  // namespace promptpack::gateway
