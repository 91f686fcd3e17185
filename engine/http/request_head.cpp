// Built with Beast's fields, so that names replace case-insensitively as they did when Beast wrote
// every request; only the per-request serialization is left out.
#include "http/request_head.hpp"

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>

#include <charconv>

namespace promptpack::detail {

request_head::request_head(const http_settings& settings) {
  namespace http = boost::beast::http;
  http::request<http::empty_body> fields;
  fields.version(11);
  fields.set(http::field::host, settings.host_header);
  fields.set(http::field::user_agent, "promptpack/0.1");
  fields.set(http::field::content_type, "application/json");
  fields.set(http::field::accept, "application/json");
  if (!settings.api_key.empty())
    fields.set(http::field::authorization, "Bearer " + settings.api_key);
  for (const auto& [name, value] : settings.headers) fields.set(name, value);
  // Connections are kept alive whatever the extra headers say: a "Connection: close" token is
  // taken out, as Beast did when it wrote each request.
  fields.keep_alive(true);
  // The body's length is the one field that changes: it is written by for_body(), never twice.
  fields.erase(http::field::content_length);
  fields.erase(http::field::transfer_encoding);
  head_.append("POST ").append(settings.target).append(" HTTP/1.1\r\n");
  for (const auto& field : fields) {
    head_.append(field.name_string()).append(": ").append(field.value()).append("\r\n");
  }
  fixed_size_ = head_.size();
}

std::string_view request_head::for_body(std::size_t body_size) {
  head_.resize(fixed_size_);
  char digits[24];  // std::to_chars: no locale, no allocation
  char* end = std::to_chars(digits, digits + sizeof digits, body_size).ptr;
  head_.append("Content-Length: ")
      .append(digits, static_cast<std::size_t>(end - digits))
      .append("\r\n\r\n");
  return head_;
}

}  // namespace promptpack::detail
