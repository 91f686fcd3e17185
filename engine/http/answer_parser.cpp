// The HTTP parser of an answer: what each of Beast's parsing events keeps.
#include "http/answer_parser.hpp"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

namespace promptpack::detail {

answer_parser::answer_parser(http_transfer& out, std::string& body) : out_(out), body_(body) {
  body_.clear();
  out_.status = 0;
  out_.reason.clear();
  out_.retry_after.clear();
  out_.location.clear();
}

void answer_parser::on_response_impl(int code, string_view reason, int, error_code&) {
  out_.status = code;
  out_.reason.assign(reason.data(), reason.size());
}

void answer_parser::on_field_impl(boost::beast::http::field name, string_view, string_view value,
                                  error_code&) {
  // The first of a repeated field counts, as http::fields::find would give it.
  namespace http = boost::beast::http;
  if (name == http::field::retry_after && !has_retry_after_) {
    out_.retry_after.assign(value.data(), value.size());
    has_retry_after_ = true;
  } else if (name == http::field::location && !has_location_) {
    out_.location.assign(value.data(), value.size());
    has_location_ = true;
  }
}

void answer_parser::on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                                      error_code& ec) {
  if (!content_length) return;
  // basic_parser has checked it against the body limit already.
  if (*content_length > body_.max_size()) {
    ec = boost::beast::http::error::buffer_overflow;
    return;
  }
  content_length_ = *content_length;
}

std::size_t answer_parser::on_body_impl(string_view bytes, error_code&) {
  // The whole body at once (basic_parser never gives more than Content-Length, so nothing
  // follows): the bytes are the read buffer's, which the caller keeps as they are until it is
  // done with the answer (http_session copies them when the session ends first).
  if (!in_place_ && body_.empty() && content_length_ && bytes.size() == *content_length_) {
    in_place_body_ = std::string_view(bytes.data(), bytes.size());
    in_place_ = true;
    return bytes.size();
  }
  if (body_.empty() && content_length_) body_.reserve(static_cast<std::size_t>(*content_length_));
  body_.append(bytes.data(), bytes.size());
  return bytes.size();
}

std::size_t answer_parser::on_chunk_body_impl(std::uint64_t, string_view bytes, error_code&) {
  body_.append(bytes.data(), bytes.size());
  return bytes.size();
}

}  // namespace promptpack::detail
