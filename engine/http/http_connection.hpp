// One endpoint connection across its sessions: opens on demand, reopens after every close.
#pragma once

#include "http/http_session.hpp"
#include "http/http_settings.hpp"
#include "http/http_transfer.hpp"
#include "http/request_head.hpp"
#include "http/stream_opener.hpp"

#include <promptpack/protocol/write_buffer.hpp>

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <optional>
#include <string>

namespace promptpack::detail {

/// Carries exchanges for one connection slot of an endpoint. The request's head is built once;
/// each exchange fills its body. A session lives from an open to the first doubt; the next
/// exchange opens a new one, so nothing read on one session can reach another.
///
/// A request that meets a stale keep-alive session (closed by the server, or speaking out of
/// turn, before any response byte) goes out once more on a freshly opened session, within the
/// same exchange: keep-alive churn costs the caller nothing. A failure on a fresh session is
/// returned as it is.
template <class Stream>
class http_connection {
 public:
  using opener = std::function<boost::asio::awaitable<opened_stream<Stream>>()>;

  http_connection(http_settings settings, opener open)
      : settings_(std::move(settings)), open_(std::move(open)), head_(settings_) {}

  /// The body of the next request; the caller fills it before each exchange. Reused.
  write_buffer& request_body() noexcept { return body_; }

  /// How many connections this slot has opened (or tried to), for the connect counter.
  int opens() const noexcept { return opens_; }

  /// Sends the request body and reads its final response into `response_body`.
  boost::asio::awaitable<http_transfer> async_exchange(std::string& response_body,
                                                       std::size_t padding) {
    const std::string_view head = head_.for_body(body_.size());
    for (;;) {
      const bool fresh = !session_;
      if (fresh) {
        auto opened = co_await open_();
        ++opens_;
        if (!opened.stream) {
          http_transfer out;
          out.error = opened.tls_failure ? transfer_error::tls : transfer_error::unreachable;
          out.detail = std::move(opened.detail);
          out.connection_closed = true;
          co_return out;
        }
        session_.emplace(std::move(*opened.stream), settings_);
      }
      auto out = co_await session_->async_exchange(head, body_.view(), response_body, padding);
      if (session_->closed()) session_.reset();
      if (out.error == transfer_error::stale && !fresh) continue;  // once more, on a new session
      co_return out;
    }
  }

  /// Ends the current session, if any.
  void close() {
    if (session_) session_->close();
    session_.reset();
  }

 private:
  http_settings settings_;
  opener open_;
  request_head head_;
  write_buffer body_;
  std::optional<http_session<Stream>> session_;
  int opens_ = 0;
};

}  // namespace promptpack::detail
