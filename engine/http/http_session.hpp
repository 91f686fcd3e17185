// One open connection's HTTP life: strictly one request, then its one final response, in turn.
#pragma once

#include "http/answer_parser.hpp"
#include "http/exchange_watchdog.hpp"
#include "http/http_settings.hpp"
#include "http/http_transfer.hpp"
#include "http/stream_bytes.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/read.hpp>

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace promptpack::detail {

/// A session is made from a freshly connected stream and dies with it, so its read buffer starts
/// empty and can never carry one connection's bytes into another's. Every exchange writes one
/// request and reads the one final response to it (interim 1xx responses skipped). Any doubt
/// about framing (bytes that arrive when no response is expected, bytes left over after a
/// response, a 101, an unreadable status line) ends the session: `closed()` turns true, and the
/// owner destroys it. Nothing of a closed session is ever read again.
///
/// `Stream` is beast::tcp_stream, ssl_stream<tcp_stream>, or beast::test::stream in tests.
/// Not thread-safe: one coroutine at a time.
template <class Stream>
class http_session {
 public:
  http_session(Stream stream, const http_settings& settings)
      : stream_(std::move(stream)), settings_(settings) {
    read_buffer_.reserve(read_buffer_bytes);
    auto& lowest = boost::beast::get_lowest_layer(stream_);
    if constexpr (requires { lowest.expires_never(); }) {
      // The watchdog keeps the request timeout; the opener's connect deadline must not linger.
      lowest.expires_never();
      watchdog_.emplace(stream_.get_executor(), [this] { close_socket(); });
    }
  }

  /// True once the session must not carry another exchange.
  bool closed() const noexcept { return closed_; }
  /// True once an exchange has been carried (a later peer close may be a stale keep-alive).
  bool reused() const noexcept { return exchanges_ > 0; }
  Stream& stream() noexcept { return stream_; }

  /// Writes the request, `head` (start line, fields, blank line) then `body`, and reads its final
  /// response. Its body is the result's `body`: a view of this session's read buffer when it came
  /// whole in the reading (valid until the next exchange, which the caller must not start before
  /// it is done with the answer), else in `response_body` (reused: its capacity is kept, and room
  /// for `padding` bytes past the end is reserved for in-place parsing). When the session ends
  /// with this exchange, the body is left in `response_body`, since the buffer goes with it.
  boost::asio::awaitable<http_transfer> async_exchange(std::string_view head, std::string_view body,
                                                       std::string& response_body,
                                                       std::size_t padding) {
    namespace beast = boost::beast;
    namespace http = beast::http;
    constexpr auto tuple_awaitable = boost::asio::as_tuple(boost::asio::use_awaitable);
    http_transfer out;
    if (closed_) co_return end(out, transfer_error::framing, "the connection was already closed");
    // Bytes that arrived while no request was outstanding belong to no exchange: this
    // connection is out of step (or closing); the request goes on a fresh one, at no cost.
    if (reused() && unread_bytes(stream_) > 0) {
      co_return end(out, transfer_error::stale,
                    "the endpoint sent bytes on an idle keep-alive connection");
    }
    if (watchdog_) watchdog_->start(settings_.request_timeout);
    const watch_until_return watched{watchdog_ ? &*watchdog_ : nullptr};
    // One gathered write: Beast's serializer would rebuild the same head on every request.
    const std::array<boost::asio::const_buffer, 2> request{boost::asio::buffer(head),
                                                           boost::asio::buffer(body)};
    auto [write_ec, written] = co_await boost::asio::async_write(stream_, request, tuple_awaitable);
    if (write_ec) co_return transport_failure(out, write_ec, false);

    std::optional<answer_parser> parser;
    beast::error_code read_ec;
    for (int interim = 0;; ++interim) {
      parser.emplace(out, response_body);
      parser->body_limit(settings_.max_response_bytes);
      // One read for the head and the body: the whole answer is usually in the buffer after the
      // first read, and a second composed read would cost a completion round trip per request.
      // A 1xx has no body, so the read ends with its head.
      read_ec =
          std::get<0>(co_await http::async_read(stream_, read_buffer_, *parser, tuple_awaitable));
      if (!parser->is_header_done()) {
        forget_response(out);
        const bool started = interim > 0 || parser->got_some() || read_buffer_.size() > 0;
        co_return transport_failure(out, read_ec, started);
      }
      const int status = parser->status();
      if (status < 200) forget_response(out);  // a status line alone, or an interim answer
      // 000-099 name no HTTP status: whether a body follows is anyone's guess.
      if (status < 100) {
        co_return end(out, transfer_error::framing,
                      "the endpoint answered with status " + std::to_string(status) +
                          ", which HTTP does not define");
      }
      if (status >= 200) break;
      // 1xx: interim (100 Continue, 103 Early Hints). It has no body; the final answer follows.
      if (status == 101 || read_ec || !parser->is_done() || interim + 1 >= max_interim_responses) {
        co_return end(out, transfer_error::framing,
                      "the endpoint answered HTTP " + std::to_string(status) +
                          (status == 101 ? " (Switching Protocols) to a plain POST"
                                         : " too many times before its final answer"));
      }
    }
    const bool close_delimited = parser->need_eof();
    const bool keep_alive = parser->keep_alive();
    if (read_ec == http::error::body_limit) {
      co_return end(out, transfer_error::body_limit,
                    "the response body is over max_response_bytes (" +
                        std::to_string(settings_.max_response_bytes) + ")");
    }
    if (read_ec) co_return transport_failure(out, read_ec, true);
    ++exchanges_;
    // No request is outstanding, so nothing may follow the response. Blank lines are tolerated
    // (RFC 9112 section 2.2), but the connection still closes; anything else means the framing
    // is wrong (a short Content-Length, say), so this response may be cut and is not used.
    if (read_buffer_.size() > 0) {
      if (!only_line_ends(read_buffer_)) {
        co_return end(out, transfer_error::framing,
                      "the endpoint sent " + std::to_string(read_buffer_.size()) +
                          " bytes past the end of its response (a wrong Content-Length?)");
      }
      close();
    }
    // The watchdog may have closed the socket just as the answer completed: the answer stands.
    if (close_delimited || !keep_alive || (watchdog_ && watchdog_->expired())) close();
    out.connection_closed = closed_;
    // A closed session is freed with its read buffer: its answer moves to the caller's string.
    if (parser->body_in_place() && closed_) response_body.assign(parser->body());
    if (!parser->body_in_place() || closed_) {
      // The string is reused, so this copies only while its capacity still grows to the largest
      // answer.
      if (response_body.capacity() < response_body.size() + padding)
        response_body.reserve(response_body.size() + padding);
      out.body = response_body;
    } else {
      out.body = parser->body();
    }
    co_return out;
  }

  /// Ends the session: its buffered bytes are dropped, and the stream is shut down.
  void close() {
    if (closed_) return;
    closed_ = true;
    read_buffer_.clear();
    close_socket();
  }

 private:
  // Beast reads at most the buffer's free capacity per call: a large buffer turns a batched
  // answer into a few reads instead of dozens (each a timer re-arm and a reactor round trip).
  static constexpr std::size_t read_buffer_bytes = 256 * 1024;
  // More interim responses than this before the final one is a server out of step.
  static constexpr int max_interim_responses = 8;

  // Stops the watchdog on every way out of an exchange.
  struct watch_until_return {
    exchange_watchdog* watchdog;
    ~watch_until_return() {
      if (watchdog) watchdog->stop();
    }
  };

  // Also the watchdog's action: the pending read or write then ends with an error, which
  // transport_failure() reports as the timeout.
  void close_socket() {
    boost::beast::error_code ignored;
    auto& socket_layer = boost::beast::get_lowest_layer(stream_);
    if constexpr (requires { socket_layer.socket(); }) {
      socket_layer.socket().shutdown(boost::asio::socket_base::shutdown_both, ignored);
      socket_layer.socket().close(ignored);
    } else {
      socket_layer.close();
    }
  }

  static bool only_line_ends(const boost::beast::flat_buffer& buffer) {
    const auto* bytes = static_cast<const char*>(buffer.data().data());
    for (std::size_t i = 0; i < buffer.size(); ++i) {
      if (bytes[i] != '\r' && bytes[i] != '\n') return false;
    }
    return true;
  }

  http_transfer& end(http_transfer& out, transfer_error error, std::string detail) {
    close();
    out.error = error;
    out.detail = std::move(detail);
    out.connection_closed = true;
    return out;
  }

  // No final response was read: nothing of a partial or interim one is left in `out` for a
  // reader to take for the answer's.
  static void forget_response(http_transfer& out) {
    out.status = 0;
    out.reason.clear();
    out.retry_after.clear();
    out.location.clear();
  }

  // The peer closed the connection: the benign ends of a keep-alive connection.
  static bool is_peer_close(const boost::beast::error_code& ec) {
    namespace asio = boost::asio;
    return ec == boost::beast::http::error::end_of_stream ||  // closed between messages
           ec == asio::error::eof ||                          // closed mid-read
           ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == asio::ssl::error::stream_truncated;  // TLS peer closed without close_notify
  }

  http_transfer& transport_failure(http_transfer& out, const boost::beast::error_code& ec,
                                   bool response_started) {
    if (ec == boost::beast::error::timeout || (watchdog_ && watchdog_->expired()))
      return end(out, transfer_error::timeout, "");
    if (reused() && !response_started && is_peer_close(ec)) {
      return end(out, transfer_error::stale,
                 "the keep-alive connection was closed: " + ec.message());
    }
    namespace http = boost::beast::http;
    if (ec == http::error::partial_message) {
      return end(out, transfer_error::lost, "the connection closed in the middle of the response");
    }
    if (ec.category() == make_error_code(http::error::end_of_stream).category() &&
        ec != http::error::end_of_stream) {
      return end(out, transfer_error::framing, "the response is not valid HTTP: " + ec.message());
    }
    return end(out, transfer_error::lost, ec.message());
  }

  Stream stream_;
  const http_settings& settings_;
  // Enforces settings_.request_timeout on sockets (a test stream has no clock). Never moved: it
  // holds `this`.
  std::optional<exchange_watchdog> watchdog_;
  boost::beast::flat_buffer read_buffer_;
  int exchanges_ = 0;
  bool closed_ = false;
};

}  // namespace promptpack::detail
