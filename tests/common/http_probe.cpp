// Blocking Beast client used by tests to talk to servers directly.
#include "common/http_probe.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <variant>

namespace promptpack::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct http_probe::impl {
  asio::io_context ioc;
  std::optional<asio::ssl::context> tls;
  std::variant<beast::tcp_stream, beast::ssl_stream<beast::tcp_stream>> stream{
      std::in_place_index<0>, ioc};
  beast::flat_buffer buffer;

  template <class F>
  auto with_stream(F&& f) {
    return std::visit(std::forward<F>(f), stream);
  }

  probe_response exchange(http::request<http::string_body> req) {
    req.set(http::field::host, "localhost");
    req.keep_alive(true);
    req.prepare_payload();
    return with_stream([&](auto& s) {
      beast::get_lowest_layer(s).expires_after(std::chrono::seconds(30));
      http::write(s, req);
      http::response_parser<http::string_body> parser;
      parser.body_limit(1u << 30);
      http::read(s, buffer, parser);
      auto res = parser.release();
      probe_response out;
      out.status = res.result_int();
      out.body = std::move(res.body());
      out.keep_alive = res.keep_alive();
      for (const auto& field : res) {
        std::string name(field.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.headers[name] = std::string(field.value());
      }
      return out;
    });
  }
};

http_probe::http_probe(std::uint16_t port, std::optional<std::string> ca_file)
    : impl_(std::make_unique<impl>()) {
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  if (!ca_file) {
    std::get<0>(impl_->stream).connect(endpoint);
    return;
  }
  impl_->tls.emplace(asio::ssl::context::tls_client);
  impl_->tls->load_verify_file(*ca_file);
  impl_->tls->set_verify_mode(asio::ssl::verify_peer);
  auto& s = impl_->stream.emplace<1>(impl_->ioc, *impl_->tls);
  SSL_set_tlsext_host_name(s.native_handle(), "localhost");
  s.set_verify_callback(asio::ssl::host_name_verification("localhost"));
  beast::get_lowest_layer(s).connect(endpoint);
  s.handshake(asio::ssl::stream_base::client);
}

http_probe::~http_probe() = default;

probe_response http_probe::post(const std::string& target, const std::string& body) {
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::content_type, "application/json");
  req.body() = body;
  return impl_->exchange(std::move(req));
}

probe_response http_probe::get(const std::string& target) {
  return impl_->exchange(http::request<http::string_body>{http::verb::get, target, 11});
}

bool http_probe::post_expect_close(const std::string& target, const std::string& body) {
  try {
    post(target, body);
    return false;
  } catch (const boost::system::system_error& e) {
    return e.code() == http::error::end_of_stream || e.code() == asio::error::eof ||
           e.code() == asio::error::connection_reset;
  }
}

}  // namespace promptpack::test
