// Opening connections: resolve under a timer, connect and handshake under the stream's deadline.
#include "http/stream_opener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <sstream>

namespace promptpack::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using clock = std::chrono::steady_clock;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

std::string where(const endpoint_url& url) {
  return url.host + ":" + url.port_text;
}

std::string timeout_text(std::chrono::milliseconds timeout) {
  std::ostringstream out;
  out << static_cast<double>(timeout.count()) / 1000.0;
  return out.str();
}

std::string out_of_time(const endpoint_url& url, std::chrono::milliseconds timeout,
                        const char* step) {
  return "no answer from " + where(url) + " within the connect timeout of " +
         timeout_text(timeout) + " s (" + step + "); raise --connect-timeout if it is just slow";
}

// The resolver has no deadline of its own: a timer cancels it. The timer's handler may run
// after the coroutine has moved on, so it reaches the resolver only through a weak pointer.
asio::awaitable<std::pair<boost::system::error_code, tcp::resolver::results_type>> resolve(
    asio::any_io_executor executor, const endpoint_url& url, clock::time_point deadline) {
  auto resolver = std::make_shared<tcp::resolver>(executor);
  asio::steady_timer timer(executor, deadline);
  timer.async_wait([weak = std::weak_ptr<tcp::resolver>(resolver)](boost::system::error_code ec) {
    if (ec) return;
    if (auto r = weak.lock()) r->cancel();
  });
  auto [ec, results] = co_await resolver->async_resolve(url.host, url.port_text, tuple_awaitable);
  timer.cancel();
  if (ec == asio::error::operation_aborted && clock::now() >= deadline) ec = beast::error::timeout;
  co_return std::pair{ec, std::move(results)};
}

// Resolve and connect `layer` by `deadline`; an empty string on success, else what went wrong.
asio::awaitable<std::string> connect_layer(beast::tcp_stream& layer, const endpoint_url& url,
                                           clock::time_point deadline,
                                           std::chrono::milliseconds timeout) {
  auto [resolve_ec, endpoints] = co_await resolve(layer.get_executor(), url, deadline);
  if (resolve_ec == beast::error::timeout) co_return out_of_time(url, timeout, "DNS resolution");
  if (resolve_ec) {
    co_return "cannot resolve host '" + url.host + "': " + resolve_ec.message();
  }
  layer.expires_at(deadline);
  auto [connect_ec, connected] = co_await layer.async_connect(endpoints, tuple_awaitable);
  if (connect_ec == beast::error::timeout) co_return out_of_time(url, timeout, "TCP connect");
  if (connect_ec) co_return "cannot connect to " + where(url) + ": " + connect_ec.message();
  beast::error_code ignored;
  layer.socket().set_option(tcp::no_delay(true), ignored);
  co_return std::string();
}

// Sets SNI and OpenSSL's own host name check, so that a mismatch is reported as one (a verify
// callback's refusal is reported as an unspecified error). Empty on success.
std::string prepare_tls(tls_stream& tls, const endpoint_url& url, bool verify) {
  boost::system::error_code ec;
  asio::ip::make_address(url.host, ec);
  const bool ip_literal = !ec;
  // SNI carries host names only; an IP literal is checked against the certificate's IP SANs.
  if (!ip_literal && !SSL_set_tlsext_host_name(tls.native_handle(), url.host.c_str())) {
    return "cannot set TLS SNI host name '" + url.host + "'";
  }
  if (!verify) {
    tls.set_verify_mode(asio::ssl::verify_none);
    return {};
  }
  tls.set_verify_mode(asio::ssl::verify_peer);
  X509_VERIFY_PARAM* param = SSL_get0_param(tls.native_handle());
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const int set = ip_literal ? X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str())
                             : X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), 0);
  if (set != 1) return "cannot check certificates for host '" + url.host + "'";
  return {};
}

std::string handshake_failure(tls_stream& tls, const endpoint_url& url,
                              const boost::system::error_code& ec) {
  const long verify = SSL_get_verify_result(tls.native_handle());
  std::string reason = ec.message();
  if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
    reason = "the certificate does not name host '" + url.host + "' (" +
             X509_verify_cert_error_string(verify) + ")";
  } else if (verify != X509_V_OK) {
    reason = std::string("certificate not trusted: ") + X509_verify_cert_error_string(verify);
  }
  return "TLS handshake with " + where(url) + " failed: " + reason;
}

}  // namespace

asio::awaitable<opened_stream<beast::tcp_stream>> open_tcp(asio::any_io_executor executor,
                                                           const endpoint_url& url,
                                                           std::chrono::milliseconds timeout) {
  opened_stream<beast::tcp_stream> out;
  beast::tcp_stream stream(executor);
  out.detail = co_await connect_layer(stream, url, clock::now() + timeout, timeout);
  if (out.detail.empty()) out.stream.emplace(std::move(stream));
  co_return out;
}

asio::awaitable<opened_stream<tls_stream>> open_tls(asio::any_io_executor executor,
                                                    const endpoint_url& url,
                                                    asio::ssl::context& context, bool verify,
                                                    std::chrono::milliseconds timeout) {
  opened_stream<tls_stream> out;
  const auto deadline = clock::now() + timeout;
  tls_stream stream(executor, context);
  out.detail = co_await connect_layer(beast::get_lowest_layer(stream), url, deadline, timeout);
  if (!out.detail.empty()) co_return out;
  out.detail = prepare_tls(stream, url, verify);
  if (!out.detail.empty()) {
    out.tls_failure = true;
    co_return out;
  }
  beast::get_lowest_layer(stream).expires_at(deadline);
  auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::client, tuple_awaitable);
  if (ec == beast::error::timeout) {
    out.detail = out_of_time(url, timeout, "TLS handshake");
  } else if (ec) {
    out.detail = handshake_failure(stream, url, ec);
    out.tls_failure = true;
  } else {
    out.stream.emplace(std::move(stream));
  }
  co_return out;
}

}  // namespace promptpack::detail
