// The reference endpoint's listener, sessions and request handling, on C++20 coroutines.
#include "reference/reference_server.hpp"

#include "reference/generation_limits.hpp"
#include "reference/inference_request.hpp"
#include "reference/text_generator.hpp"
#include "server/accept_loop.hpp"
#include "server/capacity_gate.hpp"
#include "server/connection_close.hpp"
#include "server/listener.hpp"
#include "server/request_reading.hpp"
#include "server/session_failure.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <promptpack/protocol/json_text.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

namespace promptpack::reference {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::use_awaitable;
constexpr auto as_tuple_awaitable = asio::as_tuple(use_awaitable);

using server::write_timeout;
constexpr std::size_t read_buffer_bytes = 256 * 1024;
constexpr std::size_t chunk_bytes = 4096;

std::uint64_t next_random(std::uint64_t& state) noexcept {  // splitmix64 step
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// What to do with one request: answer it (after `delay`), or drop the connection.
struct answer_plan {
  bool drop = false;
  std::chrono::microseconds delay{0};
};

// Sessions and the accept loop end on their own I/O errors; only resource exhaustion throws.
constexpr server::report_session_failure report_failure{"promptpack serve"};

std::string error_body(std::string_view reason) {
  std::string body = R"({"data":[],"message":)";
  append_json_string(body, reason);
  body.push_back('}');
  return body;
}

}  // namespace

struct reference_server::impl {
  explicit impl(reference_config c) : config(std::move(c)) {
    ioc.emplace(static_cast<int>(std::max(1u, config.threads)));
  }

  reference_config config;
  // Declared before ioc, so that it outlives the sessions that give their slots back.
  server::capacity_gate gate{config.max_connections};
  // Optional so that stop() can destroy it: that destroys every session and closes its socket.
  std::optional<asio::io_context> ioc;
  std::optional<asio::ssl::context> tls;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  server_stats stats;
  std::atomic<std::uint64_t> sessions_started{0};
  std::uint16_t port = 0;
  std::mutex stop_mutex;
  std::condition_variable stop_cv;
  bool stopped = false;

  asio::awaitable<void> accept_loop();
  template <class Stream>
  asio::awaitable<void> run_session(Stream& stream);
};

namespace {

// Per-connection state: reused buffers, a request reader and the fault dice.
class session_handler {
 public:
  session_handler(const reference_config& config, server_stats& stats, std::uint64_t seed)
      : config_(config), stats_(stats), dice_(seed) {}

  answer_plan answer(http::request<http::string_body>& req,
                     http::response<http::string_body>& res) {
    res.version(req.version());
    res.keep_alive(req.keep_alive() && config_.keep_alive);
    res.set(http::field::server, "promptpack-reference");
    res.set(http::field::content_type, "application/json");
    if (req.method() == http::verb::get && req.target() == "/health") {
      res.result(http::status::ok);
      res.body() = R"({"status":"ok"})";
      return {};
    }
    if (req.method() != http::verb::post) {
      res.result(http::status::method_not_allowed);
      res.body() = error_body("use POST for inference, or GET /health");
      return {};
    }
    stats_.requests.fetch_add(1, std::memory_order_relaxed);
    if (roll(config_.drop_rate)) {
      stats_.faults.fetch_add(1, std::memory_order_relaxed);
      return {.drop = true};
    }
    if (roll(config_.fail_rate)) {
      stats_.faults.fetch_add(1, std::memory_order_relaxed);
      res.result(static_cast<http::status>(config_.fail_status));
      if (config_.fail_status == 429 || config_.fail_status == 503) {
        res.set(http::field::retry_after, std::to_string(config_.retry_after_s));
      }
      res.body() = error_body("injected failure");
      return {};
    }
    std::string reason;
    if (!reader_.read(req.body(), request_, reason) ||
        !within_generation_limits(request_.params, config_, reason)) {
      res.result(http::status::bad_request);
      res.body() = error_body(reason);
      return {};
    }
    if (config_.max_batch > 0 && request_.prompts.size() > config_.max_batch) {
      res.result(http::status::payload_too_large);
      res.body() = error_body("batch of " + std::to_string(request_.prompts.size()) +
                              " prompts is over this server's limit of " +
                              std::to_string(config_.max_batch));
      return {};
    }
    if (!config_.reject_substring.empty()) {
      for (auto prompt : request_.prompts) {
        if (prompt.find(config_.reject_substring) != std::string_view::npos) {
          res.result(http::status::bad_request);
          res.body() = error_body("prompt rejected by content filter");
          return {};
        }
      }
    }
    res.result(http::status::ok);
    if (roll(config_.error_message_rate)) {
      stats_.faults.fetch_add(1, std::memory_order_relaxed);
      res.body() = error_body("injected: model overloaded");
    } else if (roll(config_.garbage_rate)) {
      stats_.faults.fetch_add(1, std::memory_order_relaxed);
      res.set(http::field::content_type, "text/html");
      res.body() = "<html><body>502 upstream hiccup</body></html>";
    } else {
      write_answer(res.body());
      stats_.prompts.fetch_add(request_.prompts.size(), std::memory_order_relaxed);
    }
    const double delay_us = config_.latency_ms * 1000 +
                            request_.params.max_tokens * config_.per_token_us +
                            static_cast<double>(request_.prompts.size()) * config_.per_prompt_us;
    return {.delay = std::chrono::microseconds(static_cast<std::int64_t>(delay_us))};
  }

  /// A reused buffer for response bodies, so steady-state answers allocate nothing.
  std::string take_buffer() { return std::move(spare_); }
  void give_back_buffer(std::string&& buffer) { spare_ = std::move(buffer); }

 private:
  bool roll(double rate) noexcept {
    if (rate <= 0) return false;
    return static_cast<double>(next_random(dice_) >> 11) * 0x1.0p-53 < rate;
  }

  void write_answer(std::string& out) {
    const text_generator generator(config_.generator, request_.params);
    const bool echo_prompts = config_.generator != generator_kind::fixed;
    out.clear();
    out.append(R"({"data":[)");
    const std::size_t count = request_.prompts.size();
    for (std::size_t i = 0; i < count; ++i) {
      const auto prompt = request_.prompts[config_.shuffle ? count - 1 - i : i];
      if (i > 0) out.push_back(',');
      if (echo_prompts) {
        out.append(R"({"prompt":)");
        append_json_string(out, prompt);
        out.append(R"(,"output":[)");
      } else {
        out.append(R"({"output":[)");
      }
      generator.append_outputs(out, prompt);
      out.append("]}");
    }
    out.append(R"(],"message":"ok"})");
  }

  const reference_config& config_;
  server_stats& stats_;
  std::uint64_t dice_;
  inference_request_reader reader_;
  inference_request request_;
  std::string spare_;
};

// The answer to a request whose headers or body are over a limit, so that the server will not
// read it to its end; nullopt for any other read error.
std::optional<http::response<http::string_body>> over_limit_answer(const beast::error_code& ec,
                                                                   const reference_config& config) {
  http::response<http::string_body> res;
  const auto refusal = server::refusal_for(ec);
  if (refusal == server::request_refusal::headers_too_large) {
    res.result(http::status::request_header_fields_too_large);
    res.body() =
        error_body("request headers are over this server's limit of " +
                   std::to_string(config.max_header_bytes) + " bytes (serve --max-header-bytes)");
  } else if (refusal == server::request_refusal::body_too_large) {
    res.result(http::status::payload_too_large);
    res.body() = error_body("request body is over this server's limit of " +
                            std::to_string(config.max_body_bytes) + " bytes; send fewer prompts");
  } else {
    return std::nullopt;
  }
  res.set(http::field::server, "promptpack-reference");
  res.set(http::field::content_type, "application/json");
  res.keep_alive(false);
  res.prepare_payload();
  return res;
}

}  // namespace

template <class Stream>
asio::awaitable<void> reference_server::impl::run_session(Stream& stream) {
  const std::uint64_t seed = config.fault_seed + sessions_started.fetch_add(1);
  session_handler handler(config, stats, seed * 0x9e3779b97f4a7c15ULL);
  const server::request_limits limits{.max_header_bytes = config.max_header_bytes,
                                      .max_body_bytes = config.max_body_bytes,
                                      .idle_timeout = std::chrono::seconds(config.idle_timeout_s),
                                      .read_timeout = std::chrono::seconds(config.read_timeout_s)};
  beast::flat_buffer buffer;
  // Beast reads at most the buffer's free capacity per call; a small buffer means dozens of
  // reads (each a timer re-arm and a reactor round trip) for one batched request.
  buffer.reserve(read_buffer_bytes);
  std::string request_body;
  for (;;) {
    const auto wait_ec =
        co_await server::await_request(stream, buffer, limits.idle_timeout, read_buffer_bytes);
    if (wait_ec) break;  // the peer closed, or stayed idle too long
    http::request_parser<http::string_body> parser;
    request_body.clear();
    parser.get().body() = std::move(request_body);
    const auto read_ec = co_await server::read_request(stream, buffer, parser, limits, false);
    if (read_ec) {
      // Headers or a body over a limit are answered; any other failure means the peer closed,
      // was too slow, or sent bytes that are not HTTP.
      if (auto refusal = over_limit_answer(read_ec, config)) {
        beast::get_lowest_layer(stream).expires_after(write_timeout);
        auto [ec, n] = co_await http::async_write(stream, *refusal, as_tuple_awaitable);
        if (!ec) co_await server::linger(stream);
      }
      break;
    }

    auto req = parser.release();
    http::response<http::string_body> res;
    res.body() = handler.take_buffer();
    const answer_plan plan = handler.answer(req, res);
    request_body = std::move(req.body());
    if (plan.drop) break;
    if (plan.delay.count() > 0) {
      asio::steady_timer timer(co_await asio::this_coro::executor, plan.delay);
      co_await timer.async_wait(as_tuple_awaitable);
    }
    if (config.chunked && res.result() == http::status::ok) {
      res.chunked(true);  // Beast frames the body as chunks, as many servers stream answers
    } else {
      res.prepare_payload();
    }
    beast::get_lowest_layer(stream).expires_after(write_timeout);
    http::response_serializer<http::string_body> serializer(res);
    // Chunked answers go out in pieces of chunk_bytes, each its own chunk, so that clients read
    // real multi-chunk framing.
    if (res.chunked()) serializer.limit(chunk_bytes);
    beast::error_code write_ec;
    while (!write_ec && !serializer.is_done()) {
      std::tie(write_ec, std::ignore) =
          co_await http::async_write_some(stream, serializer, as_tuple_awaitable);
    }
    const bool keep_alive = res.keep_alive();
    handler.give_back_buffer(std::move(res.body()));
    if (write_ec || !keep_alive) break;
  }
  if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
    beast::get_lowest_layer(stream).expires_after(write_timeout);
    co_await stream.async_shutdown(as_tuple_awaitable);
  }
  server::close_transport(stream);
}

asio::awaitable<void> reference_server::impl::accept_loop() {
  co_await server::accept_connections(
      *ioc, *acceptor, gate, {stats.connections, stats.refused}, "promptpack serve",
      [this](tcp::socket socket, server::capacity_slot held_slot) {
        auto executor = socket.get_executor();
        if (tls) {
          asio::co_spawn(
              executor,
              [this, slot = std::move(held_slot),
               s = beast::ssl_stream<beast::tcp_stream>(std::move(socket),
                                                        *tls)]() mutable -> asio::awaitable<void> {
                beast::get_lowest_layer(s).expires_after(write_timeout);
                auto [hs_ec] =
                    co_await s.async_handshake(asio::ssl::stream_base::server, as_tuple_awaitable);
                if (hs_ec) co_return;  // the client refused our certificate or spoke plain HTTP
                co_await run_session(s);
              },
              report_failure);
        } else {
          asio::co_spawn(
              executor,
              [this, slot = std::move(held_slot),
               s = beast::tcp_stream(std::move(socket))]() mutable -> asio::awaitable<void> {
                co_await run_session(s);
              },
              report_failure);
        }
      });
}

reference_server::reference_server(reference_config config)
    : impl_(std::make_unique<impl>(std::move(config))) {}

reference_server::~reference_server() {
  stop();
}

void reference_server::start() {
  auto& s = *impl_;
  if (!s.config.tls_cert_file.empty() || !s.config.tls_key_file.empty()) {
    s.tls.emplace(asio::ssl::context::tls_server);
    boost::system::error_code ec;
    s.tls->use_certificate_chain_file(s.config.tls_cert_file, ec);
    if (!ec) s.tls->use_private_key_file(s.config.tls_key_file, asio::ssl::context::pem, ec);
    if (ec) {
      throw std::runtime_error("cannot load TLS certificate '" + s.config.tls_cert_file +
                               "' and key '" + s.config.tls_key_file + "': " + ec.message() +
                               "; pass PEM files to --tls-cert and --tls-key");
    }
  }
  s.acceptor.emplace(*s.ioc);
  s.port = server::listen_on(*s.acceptor, s.config.host, s.config.port,
                             {.bad_address = "pass --host 127.0.0.1 or ::1",
                              .bind_failed = "pick another --port (0 picks a free one)"});
  asio::co_spawn(s.acceptor->get_executor(), s.accept_loop(), report_failure);
  for (unsigned i = 0; i < std::max(1u, s.config.threads); ++i) {
    s.threads.emplace_back([&s] { s.ioc->run(); });
  }
}

void reference_server::stop() {
  auto& s = *impl_;
  {
    std::lock_guard lock(s.stop_mutex);
    if (s.stopped) return;
    s.stopped = true;
  }
  s.stop_cv.notify_all();
  // Stopping the io_context abandons every session mid-flight, as a crashed endpoint would; the
  // sockets close when their coroutine frames are destroyed with the io_context.
  s.ioc->stop();
  for (auto& t : s.threads) {
    if (t.joinable()) t.join();
  }
  s.threads.clear();
  s.acceptor.reset();
  s.ioc.reset();
}

void reference_server::wait() {
  std::unique_lock lock(impl_->stop_mutex);
  impl_->stop_cv.wait(lock, [this] { return impl_->stopped; });
}

std::uint16_t reference_server::port() const noexcept {
  return impl_->port;
}

std::string reference_server::url() const {
  const bool v6 = impl_->config.host.find(':') != std::string::npos;
  std::string host = v6 ? "[" + impl_->config.host + "]" : impl_->config.host;
  return (impl_->tls ? "https://" : "http://") + host + ":" + std::to_string(impl_->port);
}

const server_stats& reference_server::stats() const noexcept {
  return impl_->stats;
}
const reference_config& reference_server::config() const noexcept {
  return impl_->config;
}

}  // namespace promptpack::reference
