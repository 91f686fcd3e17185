// The HTTP parser of an answer: Beast's parsing, keeping only what an exchange uses.
#pragma once

#include "http/http_transfer.hpp"

#include <boost/beast/http/basic_parser.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace promptpack::detail {

/// Parses one response. The status, reason, Retry-After and Location go straight into an
/// http_transfer: http::response_parser would keep every header field in a container (an
/// allocation each) and a message to move out of. A body of known length given whole in one piece
/// (the usual answer, in one read) is kept as a view of the bytes given, not copied; a body in
/// pieces or chunks is appended to a reused string. Framing, keep-alive and the body limit are
/// basic_parser's own. One parser per response.
class answer_parser final : public boost::beast::http::basic_parser<false> {
 public:
  /// Clears `body` and the fields of `out` this parser sets.
  answer_parser(http_transfer& out, std::string& body);

  int status() const noexcept { return out_.status; }
  /// The body: a view of the bytes the parser was given when it came whole (valid while they
  /// are, i.e. until the read buffer is next written or freed), else the string given.
  std::string_view body() const noexcept {
    return in_place_ ? in_place_body_ : std::string_view(body_);
  }
  /// True when body() views the bytes given, not the string.
  bool body_in_place() const noexcept { return in_place_; }

 private:
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;

  void on_request_impl(boost::beast::http::verb, string_view, string_view, int,
                       error_code&) override {}
  void on_response_impl(int code, string_view reason, int version, error_code& ec) override;
  void on_field_impl(boost::beast::http::field name, string_view name_string, string_view value,
                     error_code& ec) override;
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         error_code& ec) override;
  std::size_t on_body_impl(string_view bytes, error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view bytes, error_code& ec) override;
  void on_finish_impl(error_code&) override {}

  http_transfer& out_;
  std::string& body_;
  std::optional<std::uint64_t> content_length_;
  std::string_view in_place_body_;
  bool in_place_ = false;
  bool has_retry_after_ = false;
  bool has_location_ = false;
};

}  // namespace promptpack::detail
