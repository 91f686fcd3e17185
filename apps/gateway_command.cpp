// `promptpack gateway`: an OpenAI-compatible server that packs concurrent callers into few
// requests to custom endpoints; runs until SIGINT or SIGTERM, then stops gracefully.
#include "client_options.hpp"
#include "commands.hpp"
#include "embedded_endpoint.hpp"
#include "gateway/gateway_server.hpp"
#include "gateway/listen_address.hpp"
#include "gateway/route_table.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace promptpack::cli {
namespace {

namespace asio = boost::asio;

struct gateway_flags {
  client_options client;
  gateway::gateway_settings server;
  std::string listen = "127.0.0.1:8080";
  std::vector<std::string> routes;
  std::string api_key_file;
  unsigned idle_timeout_s = 120;
  unsigned read_timeout_s = 30;
  double grace_period_s = 10;
  reference::generator_kind generator = reference::generator_kind::text;
};

[[noreturn]] void usage_error(const std::string& message) {
  throw CLI::ValidationError("gateway", message);
}

// Serves until the first SIGINT or SIGTERM, then stops gracefully: no new connections, the
// requests in flight answered within the grace period (a second signal ends it at once), and the
// clients' connections closed, so that the io_context runs out of work and the command returns.
asio::awaitable<void> serve_until_signalled(gateway::gateway_server& server,
                                            gateway::route_table& routes, asio::signal_set& signals,
                                            double grace_period_s) {
  auto [ec, number] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
  std::fprintf(stderr,
               "promptpack gateway: signal %d: accepting no more connections; finishing the "
               "requests in flight within %g s (a second signal cuts that short)\n",
               number, grace_period_s);
  signals.async_wait([&server](const boost::system::error_code& error, int) {
    if (!error) server.cut_grace_short();
  });
  co_await server.drain();
  signals.cancel();
  co_await routes.shutdown();
}

void run_gateway(gateway_flags& flags, int& exit_status) {
  auto& settings = flags.server;
  try {
    const auto address = gateway::parse_listen_address(flags.listen);
    settings.host = address.host;
    settings.port = address.port;
  } catch (const std::invalid_argument& e) {
    usage_error(e.what());
  }
  settings.limits.idle_timeout = std::chrono::seconds(flags.idle_timeout_s);
  settings.limits.read_timeout = std::chrono::seconds(flags.read_timeout_s);
  settings.grace_period =
      std::chrono::milliseconds(static_cast<std::int64_t>(flags.grace_period_s * 1000));
  settings.api_key = resolve_key(std::move(settings.api_key), flags.api_key_file, "--api-key-file",
                                 "PROMPTPACK_GATEWAY_API_KEY", "gateway");

  std::vector<gateway::route_spec> routes;
  try {
    for (const auto& route : flags.routes) routes.push_back(gateway::parse_route(route));
  } catch (const std::invalid_argument& e) {
    usage_error(e.what());
  }
  // --model is served when --api-base names its endpoints, or when no --route is given (by the
  // embedded endpoint when there is no --api-base either).
  auto& o = flags.client;
  const bool model_route = routes.empty() || !o.api_bases.empty();
  embedded_endpoint embedded;
  if (routes.empty() && o.api_bases.empty()) {
    embedded = start_embedded_endpoint("gateway", flags.generator);
  } else if (!model_route) {
    // The shared settings are checked against the first route's endpoint; every route then gets
    // its own endpoints.
    o.api_bases.push_back(routes.front().endpoints.front().api_base);
  }
  finish_client_options(o, "gateway", embedded.api_base);
  auto& config = o.config;
  if (model_route)
    routes.insert(routes.begin(), gateway::route_spec{config.model, config.endpoints});
  settings.defaults = config.params;
  // The server and the clients share these threads: a caller's prompts are submitted from its
  // own session and answered on it, with no hop to another pool.
  const unsigned threads =
      config.threads > 0 ? config.threads : std::max(1u, std::thread::hardware_concurrency());

  asio::io_context ioc(static_cast<int>(threads));
  std::optional<gateway::route_table> table;
  try {
    table.emplace(ioc.get_executor(), config, routes);
  } catch (const std::invalid_argument& e) {
    usage_error(e.what());
  }
  gateway::gateway_server server(ioc, *table, std::move(settings));
  server.start();
  // Taken over before the address is announced, so that a signal sent as soon as a caller sees
  // it stops the gateway gracefully.
  asio::signal_set signals(server.get_executor(), SIGINT, SIGTERM);
  std::cout << "listening on " << server.url() << std::endl;

  std::exception_ptr failure;
  asio::co_spawn(server.get_executor(),
                 serve_until_signalled(server, *table, signals, flags.grace_period_s),
                 [&failure, &ioc](std::exception_ptr e) {
                   if (!e) return;
                   failure = e;
                   ioc.stop();
                 });
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& thread : pool) thread.join();
  if (failure) std::rethrow_exception(failure);
  std::cerr << "promptpack gateway: stopped\n";
  exit_status = exit_ok;
}

}  // namespace

void add_gateway_command(CLI::App& root, int& exit_status) {
  auto flags = std::make_shared<gateway_flags>();
  auto& c = flags->client.config;
  c.model = "custom/promptpack-reference";
  c.max_batch_prompts = 256;
  // Long enough for a burst of callers to share a request, short beside any model's latency.
  c.max_delay_us = 1000;
  c.threads = 0;  // one per core: the same threads parse the callers' HTTP
  auto& s = flags->server;
  auto* cmd = root.add_subcommand(
      "gateway",
      "Serve OpenAI's API (chat and text completions) and pack concurrent callers into few "
      "requests to custom endpoints");
  cmd->add_option("--listen", flags->listen, "HOST:PORT to listen on (port 0 picks a free one)")
      ->capture_default_str();
  cmd->add_option("--route", flags->routes,
                  "NAME=URL: serve model NAME from the endpoint at URL; repeatable (a NAME given "
                  "twice gets both endpoints)");
  add_client_options(*cmd, flags->client,
                     {.batch_size = "--max-batch",
                      .api_key = "--upstream-api-key",
                      .api_key_file = "--upstream-api-key-file",
                      .api_key_env = "PROMPTPACK_UPSTREAM_API_KEY"});
  auto* key = cmd->add_option("--api-key", s.api_key,
                              "callers must send `Authorization: Bearer KEY`; visible in `ps`: "
                              "prefer --api-key-file or PROMPTPACK_GATEWAY_API_KEY");
  cmd->add_option("--api-key-file", flags->api_key_file,
                  "file holding the callers' key (a trailing newline is ignored)")
      ->excludes(key);
  cmd->add_option("--max-queue", s.max_queue,
                  "prompts queued or in flight at once; beyond, callers get 429 with Retry-After")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 26));
  cmd->add_option("--max-connections", s.max_connections,
                  "connections beyond this many open ones are closed at once")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-header-bytes", s.limits.max_header_bytes,
                  "larger request headers (with the request line) get 431")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-body-bytes", s.limits.max_body_bytes, "larger request bodies get 413")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--idle-timeout", flags->idle_timeout_s,
                  "close keep-alive connections idle this long (s)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--read-timeout", flags->read_timeout_s,
                  "close connections whose request, once begun, takes longer to arrive (s)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--grace-period", flags->grace_period_s,
                  "on SIGINT or SIGTERM, how long requests in flight may take to finish (s)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--access-log", s.access_log,
                "one line per request on stderr: time, method, route, status, prompts, latency");
  const std::map<std::string, reference::generator_kind> generators{
      {"text", reference::generator_kind::text}, {"echo", reference::generator_kind::echo}};
  cmd->add_option("--embedded-generator", flags->generator,
                  "model of the embedded endpoint when no --api-base or --route is given")
      ->transform(CLI::CheckedTransformer(generators, CLI::ignore_case))
      ->default_str("text");
  cmd->callback([flags, &exit_status] { run_gateway(*flags, exit_status); });
}

}  // namespace promptpack::cli
