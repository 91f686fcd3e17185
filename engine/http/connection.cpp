// One keep-alive connection to an endpoint: takes batches, exchanges them, settles the outcome.
#include "client/client_engine.hpp"
#include "retry/retry_after.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <random>
#include <sstream>

namespace promptpack::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using executor_type = asio::strand<asio::io_context::executor_type>;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// simdjson reads up to this many bytes past a body's end; reserving them up front saves a copy.
constexpr std::size_t parse_padding_bytes = 64;
// How much of an error response's body an error message quotes.
constexpr std::size_t error_excerpt_bytes = 200;
// Beast reads at most the read buffer's free capacity per call: a large buffer turns a batched
// answer into a few reads instead of dozens (each one a timer re-arm and a reactor round trip).
constexpr std::size_t read_buffer_bytes = 256 * 1024;

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

// The peer closed the connection: the benign ends of a keep-alive connection.
bool is_peer_close(const beast::error_code& ec) {
  return ec == http::error::end_of_stream ||  // closed between messages: normal keep-alive end
         ec == asio::error::eof ||            // closed mid-read
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::ssl::error::stream_truncated;  // TLS peer closed without close_notify
}

// Seconds as a person writes them: "0.3", "30", "300".
std::string seconds_text(double seconds) {
  std::ostringstream out;
  out << seconds;
  return out.str();
}

std::string excerpt(std::string_view body) {
  std::string out(body.substr(0, error_excerpt_bytes));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';  // keep the message on one line
  }
  return body.size() > error_excerpt_bytes ? out + "..." : out;
}

template <class Stream>
class connection {
 public:
  connection(client_engine& engine, std::size_t endpoint, executor_type executor)
      : engine_(engine),
        endpoint_(endpoint),
        url_(engine.url(endpoint)),
        executor_(executor),
        jitter_rng_(std::random_device{}()) {
    read_buffer_.reserve(read_buffer_bytes);
    const auto& config = engine_.config();
    request_.method(http::verb::post);
    request_.target(url_.target);
    request_.version(11);
    request_.set(http::field::host, url_.host_header);
    request_.set(http::field::user_agent, "promptpack/0.1");
    request_.set(http::field::content_type, "application/json");
    request_.set(http::field::accept, "application/json");
    if (!config.api_key.empty())
      request_.set(http::field::authorization, "Bearer " + config.api_key);
    for (const auto& [name, value] : config.headers) request_.set(name, value);
    request_.keep_alive(true);
  }

  asio::awaitable<void> run() {
    // Shutdown cancels the pending operation; the exchange then ends as an error, not a throw.
    co_await asio::this_coro::throw_if_cancelled(false);
    for (;;) {
      batch_ptr b = co_await engine_.queue().async_next_batch(endpoint_, asio::use_awaitable);
      if (!b) break;
      exchange_outcome outcome;
      if (!stream_) outcome = co_await connect();
      if (outcome.result == exchange_result::ok) outcome = co_await exchange(*b);
      engine_.queue().exchange_done(endpoint_, outcome);
      settle(std::move(b), std::move(outcome));
    }
    close();
  }

 private:
  std::string where() const { return url_.host + ":" + url_.port_text; }

  Stream make_stream() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      return Stream(executor_);
    } else {
      return Stream(executor_, engine_.tls_context());
    }
  }

  asio::awaitable<exchange_outcome> connect() {
    const auto& config = engine_.config();
    stream_.emplace(make_stream());
    auto& tcp_layer = beast::get_lowest_layer(*stream_);
    tcp_layer.expires_after(to_ms(config.connect_timeout_s));
    tcp::resolver resolver(executor_);
    auto [resolve_ec, endpoints] =
        co_await resolver.async_resolve(url_.host, url_.port_text, tuple_awaitable);
    if (resolve_ec) {
      close();
      co_return exchange_outcome{
          .result = exchange_result::connect_failed,
          .detail = "cannot resolve host '" + url_.host + "': " + resolve_ec.message()};
    }
    auto [connect_ec, connected] = co_await tcp_layer.async_connect(endpoints, tuple_awaitable);
    if (connect_ec) {
      close();
      const bool timed_out = connect_ec == beast::error::timeout;
      co_return exchange_outcome{
          .result = exchange_result::connect_failed,
          .detail = timed_out ? "no answer from " + where() + " within the connect timeout of " +
                                    seconds_text(config.connect_timeout_s) + " s"
                              : "cannot connect to " + where() + ": " + connect_ec.message()};
    }
    engine_.counters().connects.fetch_add(1, std::memory_order_relaxed);
    beast::error_code ignored;
    tcp_layer.socket().set_option(tcp::no_delay(true), ignored);
    if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
      if (auto failure = co_await handshake()) co_return *failure;
    }
    reused_ = false;
    co_return exchange_outcome{};
  }

  asio::awaitable<std::optional<exchange_outcome>> handshake() requires(
      !std::is_same_v<Stream, beast::tcp_stream>) {
    auto& tls = *stream_;
    boost::system::error_code ec;
    asio::ip::make_address(url_.host, ec);
    const bool ip_literal = !ec;
    // SNI carries host names only; an IP literal is checked against the certificate's IP SANs.
    if (!ip_literal && !SSL_set_tlsext_host_name(tls.native_handle(), url_.host.c_str())) {
      close();
      co_return exchange_outcome{.result = exchange_result::tls_failed,
                                 .detail = "cannot set TLS SNI host name '" + url_.host + "'"};
    }
    if (engine_.config().tls_verify) {
      tls.set_verify_mode(asio::ssl::verify_peer);
      // OpenSSL's own name check, so that a mismatch is reported as one (not as an unspecified
      // verification error, as a verify callback's refusal is).
      X509_VERIFY_PARAM* param = SSL_get0_param(tls.native_handle());
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      const int set = ip_literal ? X509_VERIFY_PARAM_set1_ip_asc(param, url_.host.c_str())
                                 : X509_VERIFY_PARAM_set1_host(param, url_.host.c_str(), 0);
      if (set != 1) {
        close();
        co_return exchange_outcome{
            .result = exchange_result::tls_failed,
            .detail = "cannot check certificates for host '" + url_.host + "'"};
      }
    } else {
      tls.set_verify_mode(asio::ssl::verify_none);
    }
    auto [hs_ec] = co_await tls.async_handshake(asio::ssl::stream_base::client, tuple_awaitable);
    if (!hs_ec) co_return std::nullopt;
    const long verify = SSL_get_verify_result(tls.native_handle());
    std::string reason = hs_ec.message();
    if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      reason = "the certificate does not name host '" + url_.host + "' (" +
               X509_verify_cert_error_string(verify) + ")";
    } else if (verify != X509_V_OK) {
      reason = std::string("certificate not trusted: ") + X509_verify_cert_error_string(verify);
    }
    close();
    co_return exchange_outcome{.result = hs_ec == beast::error::timeout
                                             ? exchange_result::connect_failed
                                             : exchange_result::tls_failed,
                               .detail = "TLS handshake with " + where() + " failed: " + reason};
  }

  exchange_outcome transport_failure(const beast::error_code& ec, bool response_started) {
    const bool was_reused = reused_;
    close();
    if (ec == beast::error::timeout) {
      return {.result = exchange_result::timeout,
              .detail = "no complete response from " + where() + " within " +
                        seconds_text(engine_.config().request_timeout_s) + " s"};
    }
    if (was_reused && !response_started && is_peer_close(ec)) {
      return {.result = exchange_result::stale_connection,
              .detail = "keep-alive connection to " + where() + " was closed: " + ec.message()};
    }
    return {.result = exchange_result::connection_lost,
            .detail = "connection to " + where() + " lost: " + ec.message()};
  }

  asio::awaitable<exchange_outcome> exchange(batch& b) {
    const auto& config = engine_.config();
    auto& counters = engine_.counters();
    prompts_.clear();
    auto& body = request_.body();
    const auto& writer = b.group->writer;
    writer.begin(body);
    for (const auto& item : b.items) {
      request_writer::add_prompt(body, item.prompt, prompts_.empty());
      prompts_.push_back(item.prompt);
    }
    writer.end(body);
    request_.content_length(body.size());

    const auto started = clock::now();
    beast::get_lowest_layer(*stream_).expires_after(to_ms(config.request_timeout_s));
    counters.requests.fetch_add(1, std::memory_order_relaxed);
    counters.prompts_sent.fetch_add(b.items.size(), std::memory_order_relaxed);
    counters.in_flight.fetch_add(1, std::memory_order_relaxed);
    auto outcome = co_await send_and_read();
    counters.in_flight.fetch_sub(1, std::memory_order_relaxed);
    counters.bytes_sent.fetch_add(body.size(), std::memory_order_relaxed);
    if (outcome.status != 0) {
      engine_.latency().record(
          std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - started));
    }
    co_return outcome;
  }

  asio::awaitable<exchange_outcome> send_and_read() {
    auto [write_ec, written] = co_await http::async_write(*stream_, request_, tuple_awaitable);
    if (write_ec) co_return transport_failure(write_ec, false);

    http::response_parser<http::string_body> parser;
    parser.body_limit(engine_.config().max_response_bytes);
    response_body_.clear();
    parser.get().body() = std::move(response_body_);
    auto [header_ec, header_bytes] =
        co_await http::async_read_header(*stream_, read_buffer_, parser, tuple_awaitable);
    if (header_ec) {
      response_body_ = std::move(parser.get().body());
      co_return transport_failure(header_ec, parser.got_some() || read_buffer_.size() > 0);
    }
    if (const auto length = parser.content_length()) {
      parser.get().body().reserve(*length + parse_padding_bytes);
    }
    auto [read_ec, read_bytes] =
        co_await http::async_read(*stream_, read_buffer_, parser, tuple_awaitable);
    auto response = parser.release();
    response_body_ = std::move(response.body());
    if (read_ec == http::error::body_limit) {
      close();
      co_return exchange_outcome{.result = exchange_result::bad_body,
                                 .status = static_cast<int>(response.result_int()),
                                 .detail = "response body is over max_response_bytes (" +
                                           std::to_string(engine_.config().max_response_bytes) +
                                           "); send fewer prompts per request"};
    }
    if (read_ec) co_return transport_failure(read_ec, true);
    if (response.keep_alive()) {
      reused_ = true;
    } else {
      close();  // Connection: close is honoured: the next batch opens a new connection
    }
    engine_.counters().bytes_received.fetch_add(response_body_.size(), std::memory_order_relaxed);

    const int status = static_cast<int>(response.result_int());
    if (status < 200 || status > 299) {
      exchange_outcome outcome{.result = exchange_result::http_status, .status = status};
      outcome.detail = "endpoint answered HTTP " + std::to_string(status) + " " +
                       std::string(response.reason()) + ": " + excerpt(response_body_);
      if (auto it = response.find(http::field::retry_after); it != response.end()) {
        outcome.retry_after = parse_retry_after(it->value(), std::chrono::system_clock::now());
      }
      co_return outcome;
    }
    parsed_ = &parser_.parse(response_body_, prompts_);
    switch (parsed_->status) {
      case response_status::ok:
        co_return exchange_outcome{.status = status};
      case response_status::endpoint_error:
        co_return exchange_outcome{.result = exchange_result::endpoint_message,
                                   .status = status,
                                   .detail = parsed_->message};
      case response_status::protocol_error:
        break;
    }
    co_return exchange_outcome{
        .result = exchange_result::bad_body, .status = status, .detail = parsed_->message};
  }

  void settle(batch_ptr b, exchange_outcome outcome) {
    if (outcome.result == exchange_result::ok) {
      deliver_answers(std::move(b));
      return;
    }
    if (engine_.cancelling()) {
      engine_.fail(std::move(b), outcome, errc::cancelled);
      return;
    }
    const bool reached = outcome.result != exchange_result::stale_connection &&
                         outcome.result != exchange_result::connect_failed;
    auto& queue = engine_.queue();
    // A refused connect has just cooled this endpoint down; while another endpoint is healthy
    // the batch goes there at once, at no cost to its budget, so one dead endpoint among several
    // fails no prompt however long the job runs.
    if (outcome.result == exchange_result::connect_failed &&
        queue.another_endpoint_available(endpoint_)) {
      queue.resend(std::move(b));
      return;
    }
    ++(reached ? b->budget.sent : b->budget.unsent);
    const auto d =
        engine_.policy().decide(outcome, b->items.size(), b->budget,
                                std::uniform_real_distribution<double>(0, 1)(jitter_rng_));
    switch (d.action) {
      case next_action::resend:
        queue.resend(std::move(b));
        return;
      case next_action::retry_later:
        if (clock::now() + d.delay >= b->deadline) break;  // out of time: fail with this error
        engine_.counters().retried.fetch_add(1, std::memory_order_relaxed);
        queue.retry_later(std::move(b), d.delay);
        return;
      case next_action::split:
      case next_action::bisect: {
        if (d.action == next_action::split) queue.lower_batch_limit(endpoint_, b->items.size() / 2);
        --b->budget.sent;  // finding the bad half, or the size that fits, is not a retry
        engine_.counters().splits.fetch_add(1, std::memory_order_relaxed);
        batch_ptr second = queue.make_batch();
        second->group = b->group;
        second->budget = b->budget;
        second->opened = b->opened;
        second->deadline = b->deadline;
        const auto half = static_cast<std::ptrdiff_t>(b->items.size() / 2);
        second->items.assign(b->items.begin() + half, b->items.end());
        b->items.resize(static_cast<std::size_t>(half));
        queue.resend(std::move(second));
        queue.resend(std::move(b));
        return;
      }
      case next_action::fail:
        break;
    }
    engine_.fail(std::move(b), outcome, d.error);
  }

  void deliver_answers(batch_ptr b) {
    const std::size_t answered =
        static_cast<std::size_t>(std::count_if(parsed_->answers.begin(), parsed_->answers.end(),
                                               [](const auto& a) { return a.answered; }));
    if (answered == b->items.size()) {
      engine_.deliver(std::move(b), parsed_, nullptr);
      return;
    }
    const Error unanswered{
        .type = errc::protocol,
        .message = "endpoint's answer breaks the protocol: " + parsed_->unanswered_reason,
        .http_status = 200,
        .attempts = b->budget.sent + b->budget.unsent + 1};
    engine_.deliver(std::move(b), parsed_, &unanswered);
  }

  void close() {
    if (!stream_) return;
    beast::error_code ignored;
    auto& socket = beast::get_lowest_layer(*stream_).socket();
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    stream_.reset();
    reused_ = false;
  }

  client_engine& engine_;
  std::size_t endpoint_;
  const endpoint_url& url_;
  executor_type executor_;
  std::optional<Stream> stream_;
  bool reused_ = false;  // the stream has carried an exchange: a close may be a stale keep-alive
  beast::flat_buffer read_buffer_;
  http::request<http::string_body> request_;  // fields set once; the body buffer is reused
  std::string response_body_;                 // reused, with room for simdjson's padding
  response_parser parser_;
  const parsed_response* parsed_ = nullptr;
  std::vector<std::string_view> prompts_;
  std::minstd_rand jitter_rng_;
};

template <class Stream>
asio::awaitable<void> run_connection(client_engine& engine, std::size_t endpoint,
                                     executor_type executor) {
  connection<Stream> conn(engine, endpoint, executor);
  co_await conn.run();
}

}  // namespace

void spawn_connection(client_engine& engine, std::size_t endpoint, executor_type strand,
                      asio::cancellation_slot cancel, std::function<void()> on_exit) {
  auto done =
      asio::bind_cancellation_slot(cancel, [on_exit = std::move(on_exit)](std::exception_ptr e) {
        if (e) {
          // Only resource exhaustion can get here; say so rather than dying silently.
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            std::fprintf(stderr, "promptpack: a connection stopped on an internal error: %s\n",
                         ex.what());
          } catch (...) {
            std::fprintf(stderr, "promptpack: a connection stopped on an unknown internal error\n");
          }
        }
        on_exit();
      });
  if (engine.url(endpoint).tls) {
    asio::co_spawn(strand,
                   run_connection<beast::ssl_stream<beast::tcp_stream>>(engine, endpoint, strand),
                   std::move(done));
  } else {
    asio::co_spawn(strand, run_connection<beast::tcp_stream>(engine, endpoint, strand),
                   std::move(done));
  }
}

}  // namespace promptpack::detail
