// The gateway's sessions: read a request within limits, route it, answer in OpenAI's shapes;
// and the graceful stop.
#include "gateway/gateway_server.hpp"

#include "gateway/access_log.hpp"
#include "gateway/bearer_auth.hpp"
#include "gateway/caller_connections.hpp"
#include "gateway/gateway_metrics.hpp"
#include "gateway/listen_address.hpp"
#include "gateway/openai_error.hpp"
#include "gateway/openai_request.hpp"
#include "gateway/openai_response.hpp"
#include "gateway/sse_stream.hpp"
#include "gateway/upstream_call.hpp"
#include "gateway/upstream_failure_log.hpp"
#include "server/accept_loop.hpp"
#include "server/capacity_gate.hpp"
#include "server/connection_close.hpp"
#include "server/listener.hpp"
#include "server/session_failure.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <cstdio>
#include <string_view>
#include <utility>
#include <vector>

namespace promptpack::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr server::report_session_failure report_failure{"promptpack gateway"};

// OpenAI requests are small: one read takes most of them whole, and a thousand connections
// hold 16 MiB of buffers.
constexpr std::size_t read_size = 16 * 1024;

// What nginx logs for a caller that hung up before its answer.
constexpr unsigned caller_gone_status = 499;

std::string_view as_view(beast::string_view text) {
  return {text.data(), text.size()};
}

// The path of a request target, without its query.
std::string_view path_of(beast::string_view target) {
  const std::string_view view = as_view(target);
  return view.substr(0, view.find('?'));
}

gateway_route route_of(beast::string_view target) {
  const std::string_view path = path_of(target);
  if (path == "/v1/chat/completions") return gateway_route::chat_completions;
  if (path == "/v1/completions") return gateway_route::completions;
  if (path == "/v1/models") return gateway_route::models;
  if (path == "/health") return gateway_route::health;
  if (path == "/metrics") return gateway_route::metrics;
  return gateway_route::unknown;
}

void reply(response& res, std::string_view content_type, std::string_view body) {
  res.result(http::status::ok);
  res.set(http::field::content_type, content_type);
  res.body().assign(body);
}

void reply_error(response& res, const openai_error& error) {
  res.result(error.status);
  res.set(http::field::content_type, "application/json");
  if (error.status == 401) res.set(http::field::www_authenticate, "Bearer");
  // The queue drains as fast as the endpoints answer: a second is a fair wait.
  if (error.status == 429) res.set(http::field::retry_after, "1");
  res.body().clear();
  append_error_json(res.body(), error);
}

// What the session needs to know of an exchange once it is answered.
struct exchange_record {
  gateway_route route = gateway_route::unknown;
  std::size_t prompts = 0;
  bool caller_gone = false;  // the caller hung up: nobody to answer
};

// What every session shares: the settings, and parts that are safe from any thread.
struct gateway_state {
  gateway_state(route_table& table, gateway_settings s)
      : routes(table),
        auth(s.api_key),
        settings(without_key(std::move(s))),
        queue(settings.max_queue) {}

  // The key is kept only as bearer_auth's digest.
  static gateway_settings without_key(gateway_settings s) {
    s.api_key.clear();
    return s;
  }

  route_table& routes;
  const bearer_auth auth;
  const gateway_settings settings;
  gateway_metrics metrics;
  upstream_failure_log failures;
  server::capacity_gate queue;  // --max-queue, in prompts
};

// Answers one connection's requests, reusing its request reader and buffers from one request to
// the next.
class exchange_handler {
 public:
  explicit exchange_handler(gateway_state& state) : state_(state) {}

  // Answers `req` into `res`. Completions await their prompts; every other route answers at once.
  asio::awaitable<exchange_record> answer(request& req, response& res, tcp::socket& caller) {
    exchange_record record{.route = route_of(req.target())};
    switch (record.route) {
      case gateway_route::chat_completions:
        if (allowed(req, res, http::verb::post, true)) {
          co_await complete(completion_api::chat, req, res, caller, record);
        }
        break;
      case gateway_route::completions:
        if (allowed(req, res, http::verb::post, true)) {
          co_await complete(completion_api::text, req, res, caller, record);
        }
        break;
      case gateway_route::models:
        if (allowed(req, res, http::verb::get, true)) {
          reply(res, "application/json", state_.routes.models_json());
        }
        break;
      case gateway_route::health:
        if (allowed(req, res, http::verb::get, false)) {
          reply(res, "application/json", R"({"status":"ok"})");
        }
        break;
      case gateway_route::metrics:
        if (allowed(req, res, http::verb::get, false)) {
          reply(res, "text/plain; version=0.0.4; charset=utf-8", {});
          state_.metrics.render(res.body(), state_.queue.used(), state_.routes.stats());
        }
        break;
      case gateway_route::unknown:
        reply_error(res, unknown_path(as_view(req.method_string()), path_of(req.target())));
        break;
    }
    co_return record;
  }

 private:
  // The route takes `method`, and the caller's key is right when the route needs one (health
  // and metrics do not, so that probes and scrapers need no key); otherwise `res` refuses.
  bool allowed(const request& req, response& res, http::verb method, bool needs_key) {
    if (req.method() != method) {
      reply_error(res, wrong_method(path_of(req.target()), as_view(http::to_string(method))));
      return false;
    }
    if (!needs_key) return true;
    switch (state_.auth.check(as_view(req[http::field::authorization]))) {
      case bearer_auth::verdict::allowed:
        return true;
      case bearer_auth::verdict::missing:
        reply_error(res, missing_api_key());
        return false;
      case bearer_auth::verdict::wrong:
        reply_error(res, wrong_api_key());
        return false;
    }
    return false;
  }

  asio::awaitable<void> complete(completion_api api, request& req, response& res,
                                 tcp::socket& caller, exchange_record& record) {
    if (!reader_.read(req.body(), api, state_.settings.defaults, request_, error_)) {
      reply_error(res, error_);
      co_return;
    }
    client* upstream = state_.routes.find(request_.model);
    if (upstream == nullptr) {
      reply_error(res, model_not_found(request_.model));
      co_return;
    }
    const std::size_t prompts = request_.prompts.size();
    if (prompts > state_.queue.capacity()) {
      reply_error(res, invalid_request("prompt has " + std::to_string(prompts) +
                                           " entries, more than this gateway takes at once (" +
                                           std::to_string(state_.queue.capacity()) +
                                           ", promptpack gateway --max-queue); send fewer",
                                       "prompt"));
      co_return;
    }
    const auto queued = state_.queue.try_enter(prompts);
    if (!queued) {
      reply_error(res, queue_full(prompts, state_.queue.capacity()));
      co_return;
    }
    record.prompts = prompts;
    state_.metrics.prompts_submitted(prompts);
    const auto submitted = clock_type::now();
    const call_outcome outcome =
        co_await complete_prompts(*upstream, request_.prompts, request_.params, caller, results_);
    if (outcome == call_outcome::caller_gone) {
      record.caller_gone = true;
      co_return;
    }
    state_.metrics.upstream_answered(clock_type::now() - submitted);
    const prompt_error* failure = nullptr;
    for (const auto& result : results_) {
      if (result.ok()) continue;
      state_.metrics.upstream_failed(result.error->type);
      if (failure == nullptr) failure = &*result.error;
    }
    if (failure != nullptr) {
      if (const auto line = state_.failures.line_for(*failure, clock_type::now()); !line.empty()) {
        write_log_line(line);
      }
      reply_error(res, upstream_failure(*failure));
      co_return;
    }
    const model_response openai_answer = completion_response(api, request_.model, request_.prompts,
                                                             results_, request_.params.max_tokens);
    if (request_.stream) {
      reply(res, "text/event-stream", {});
      res.set(http::field::cache_control, "no-cache");
      append_event_stream(res.body(), openai_answer, request_.stream_usage);
    } else {
      res.result(http::status::ok);
      res.set(http::field::content_type, "application/json");
      res.body() = openai_answer.to_json();
    }
  }

  gateway_state& state_;
  openai_request_reader reader_;
  openai_request request_;
  openai_error error_;
  std::vector<prompt_result> results_;
};

}  // namespace

struct gateway_server::impl {
  impl(asio::io_context& context, route_table& routes, gateway_settings settings)
      : ioc(context),
        state(routes, std::move(settings)),
        connection_gate(state.settings.max_connections),
        control(asio::make_strand(context)),
        acceptor(control),
        drain_timer(control) {}

  asio::io_context& ioc;
  gateway_state state;
  server::capacity_gate connection_gate;  // --max-connections
  caller_connections connections;
  // The listener, the drain and their timer run on this strand.
  asio::strand<asio::io_context::executor_type> control;
  tcp::acceptor acceptor;
  asio::steady_timer drain_timer;
  bool grace_cut = false;  // on `control`
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> refused{0};
  std::uint16_t port = 0;

  void serve(tcp::socket socket, server::capacity_slot slot) {
    auto connection = std::make_shared<caller_connection>(std::move(socket));
    const auto executor = connection->stream.get_executor();
    asio::co_spawn(
        executor,
        [this, session_connection = std::move(connection), held = std::move(slot)]() mutable
        -> asio::awaitable<void> { co_await run_session(std::move(session_connection)); },
        report_failure);
  }

  asio::awaitable<void> run_session(std::shared_ptr<caller_connection> connection) {
    const caller_connections::membership member(connections, connection);
    auto& stream = connection->stream;
    const auto& limits = state.settings.limits;
    exchange_handler handler(state);
    beast::flat_buffer buffer;
    buffer.reserve(read_size);
    std::string request_body;
    std::string response_body;
    while (!connection->closing) {
      connection->idle = true;  // a graceful stop may close the connection while it waits here
      const auto wait_ec =
          co_await server::await_request(stream, buffer, limits.idle_timeout, read_size);
      connection->idle = false;
      if (wait_ec) break;  // the caller closed, stayed idle too long, or the gateway is stopping
      http::request_parser<http::string_body> parser;
      request_body.clear();
      parser.get().body() = std::move(request_body);
      const auto read_ec = co_await server::read_request(stream, buffer, parser, limits, true);
      if (read_ec) {
        // Headers or a body over a limit are answered; any other failure means the caller
        // closed, was too slow, or sent bytes that are not HTTP.
        const auto refusal = server::refusal_for(read_ec);
        if (refusal != server::request_refusal::none)
          co_await refuse(stream, refusal, parser.get());
        break;
      }
      request req = parser.release();
      const auto read_at = clock_type::now();
      state.metrics.request_started();
      response res{http::status::ok, req.version()};
      response_body.clear();
      res.body() = std::move(response_body);
      const exchange_record record = co_await handler.answer(req, res, stream.socket());
      request_body = std::move(req.body());
      if (record.caller_gone) {
        finish(record, req.method_string(), caller_gone_status, read_at);
        break;
      }
      res.keep_alive(req.keep_alive() && !connection->closing);
      res.prepare_payload();
      stream.expires_after(server::write_timeout);
      auto [write_ec, written] = co_await http::async_write(stream, res, as_tuple_awaitable);
      finish(record, req.method_string(), res.result_int(), read_at);
      response_body = std::move(res.body());
      if (write_ec || !res.keep_alive()) break;
    }
    server::close_transport(stream);
  }

  // Answers a request whose headers or body are over a limit, then closes the connection
  // without reading the rest.
  asio::awaitable<void> refuse(beast::tcp_stream& stream, server::request_refusal refusal,
                               const request& partial) {
    state.metrics.request_started();
    const auto at = clock_type::now();
    const auto& limits = state.settings.limits;
    response res;
    reply_error(res, refusal == server::request_refusal::headers_too_large
                         ? headers_too_large(limits.max_header_bytes)
                         : body_too_large(limits.max_body_bytes));
    res.keep_alive(false);
    res.prepare_payload();
    stream.expires_after(server::write_timeout);
    auto [write_ec, written] = co_await http::async_write(stream, res, as_tuple_awaitable);
    const beast::string_view method = partial.method_string();
    finish({.route = route_of(partial.target())}, method.empty() ? "-" : method, res.result_int(),
           at);
    if (!write_ec) co_await server::linger(stream);
  }

  void finish(const exchange_record& record, beast::string_view method, unsigned status,
              clock_type::time_point read_at) {
    const auto latency = clock_type::now() - read_at;
    state.metrics.request_finished(record.route, status, latency);
    if (!state.settings.access_log) return;
    write_log_line(access_log_line({.at = std::chrono::system_clock::now(),
                                    .method = as_view(method),
                                    .route = record.route,
                                    .status = status,
                                    .prompts = record.prompts,
                                    .latency = latency}));
  }

  // Wakes the drain when the last connection has closed.
  void wake_drain_when_no_connection() {
    connections.notify_when_empty(
        [this] { asio::post(control, [this] { drain_timer.cancel(); }); });
  }
};

gateway_server::gateway_server(asio::io_context& ioc, route_table& routes,
                               gateway_settings settings)
    : impl_(std::make_unique<impl>(ioc, routes, std::move(settings))) {}

gateway_server::~gateway_server() = default;

void gateway_server::start() {
  auto& s = *impl_;
  const auto& settings = s.state.settings;
  s.port = server::listen_on(s.acceptor, settings.host, settings.port,
                             {.bad_address = "pass --listen 127.0.0.1:8080, 0.0.0.0:8080 or "
                                             "[::1]:8080",
                              .bind_failed = "pick another --listen port (0 picks a free one)"});
  asio::co_spawn(s.control,
                 server::accept_connections(s.ioc, s.acceptor, s.connection_gate,
                                            {s.accepted, s.refused}, "promptpack gateway",
                                            [&s](tcp::socket socket, server::capacity_slot slot) {
                                              s.serve(std::move(socket), std::move(slot));
                                            }),
                 report_failure);
}

std::string gateway_server::url() const {
  return http_url(impl_->state.settings.host, impl_->port);
}

asio::any_io_executor gateway_server::get_executor() const {
  return impl_->control;
}

asio::awaitable<void> gateway_server::drain() {
  auto& s = *impl_;
  boost::system::error_code ignored;
  s.acceptor.close(ignored);
  s.connections.close_gracefully();
  if (!s.grace_cut) {
    s.drain_timer.expires_after(s.state.settings.grace_period);
    s.wake_drain_when_no_connection();
    co_await s.drain_timer.async_wait(as_tuple_awaitable);
  }
  if (const std::size_t left = s.connections.size(); left > 0) {
    std::fprintf(stderr,
                 "promptpack gateway: the grace period is over; cancelling the requests of %zu "
                 "connections (raise --grace-period to let them finish)\n",
                 left);
    s.state.routes.cancel_all();
    s.connections.close_all();
  }
  while (s.connections.size() > 0) {
    s.drain_timer.expires_at(asio::steady_timer::time_point::max());
    s.wake_drain_when_no_connection();
    co_await s.drain_timer.async_wait(as_tuple_awaitable);
  }
  if (const auto line = s.state.failures.unreported_line(); !line.empty()) write_log_line(line);
}

void gateway_server::cut_grace_short() {
  auto& s = *impl_;
  asio::post(s.control, [&s] {
    s.grace_cut = true;
    s.drain_timer.cancel();
  });
}

}  // namespace promptpack::gateway
