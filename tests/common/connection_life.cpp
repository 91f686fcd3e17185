// The scripted server and the crossing check behind run_connection_life.
#include "common/connection_life.hpp"

// Bytes waiting in a test stream: found by argument-dependent lookup from http_session.
#include <boost/beast/_experimental/test/stream.hpp>
namespace boost::beast::test {
template <class Executor>
std::size_t unread_bytes(basic_stream<Executor>& s) {
  return s.str().size();
}
}  // namespace boost::beast::test

#include "http/http_connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>

#include <memory>
#include <string_view>

namespace promptpack::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using detail::http_connection;
using detail::opened_stream;
using detail::transfer_error;

constexpr int max_exchanges = 24;
constexpr int max_steps = 400;

class script_reader {
 public:
  explicit script_reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  bool empty() const { return pos_ >= bytes_.size(); }
  std::uint8_t next() { return empty() ? 0 : bytes_[pos_++]; }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

std::string body_for(int k) {
  return R"({"data":[{"output":["o)" + std::to_string(k) + R"("]}],"message":"ok"})";
}

// Every "o<number>" tag in `body` must name exchange `k`; returns the first one that does not.
std::string foreign_tag(std::string_view body, int k) {
  for (std::size_t i = body.find("\"o"); i != std::string_view::npos; i = body.find("\"o", i + 1)) {
    std::size_t j = i + 2;
    while (j < body.size() && body[j] >= '0' && body[j] <= '9') ++j;
    if (j == i + 2) continue;
    if (body.substr(i + 2, j - i - 2) != std::to_string(k))
      return std::string(body.substr(i, j - i));
  }
  return {};
}

// Noise drawn from bytes that can look like HTTP, but never like another exchange's tag.
std::string noise(script_reader& in) {
  static constexpr char alphabet[] = "HTP/1.0 2\r\n:abcdefgk{}[]\",";
  std::string out;
  const int n = in.next() % 24;
  for (int i = 0; i < n; ++i) out += alphabet[in.next() % (sizeof(alphabet) - 1)];
  return out;
}

std::string response(int k, script_reader& in) {
  const std::string body = body_for(k);
  const auto length = [&](int delta) {
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size() + delta) +
           "\r\n\r\n" + body;
  };
  switch (in.next() % 13) {
    case 0:
      return length(0);
    case 1: {
      const std::size_t half = body.size() / 2;
      return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n" +
             (std::to_string(half) + ";ext=1\r\n") + body.substr(0, half) + "\r\n" +
             std::to_string(body.size() - half) + "\r\n" + body.substr(half) +
             "\r\n0\r\nX-T: done\r\n\r\n";
    }
    case 2:
      return "HTTP/1.1 100 Continue\r\n\r\n";
    case 3:
      return "HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n";
    case 4:
      return "HTTP/1.0 200 OK\r\n\r\n" + body;  // ends at close: the script closes later
    case 5:
      return length(-static_cast<int>(1 + in.next() % 8));  // short Content-Length
    case 6:
      return length(1 + in.next() % 8);  // long Content-Length: the rest never comes
    case 7:
      return noise(in);
    case 8:
      return "\r\n";
    case 9:
      return "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body;
    case 10:
      return "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 3\r\n\r\nbad";
    case 11:
      return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n";
    default:
      return length(0) + length(0);  // the same answer twice
  }
}

}  // namespace

connection_life_report run_connection_life(std::span<const std::uint8_t> script) {
  script_reader in(script);
  connection_life_report report;
  asio::io_context ioc;
  std::shared_ptr<beast::test::stream> server;  // the server's end of the newest connection
  int current = -1;
  bool done = false;

  detail::http_settings settings{.target = "/inference",
                                 .host_header = "127.0.0.1",
                                 .api_key = "",
                                 .headers = {},
                                 .request_timeout = std::chrono::seconds(1),
                                 .max_response_bytes = 4096};
  http_connection<beast::test::stream> connection(
      settings, [&]() -> asio::awaitable<opened_stream<beast::test::stream>> {
        opened_stream<beast::test::stream> out;
        ++report.opens;
        if (in.next() % 8 == 0) {
          out.detail = "refused";
          co_return out;
        }
        beast::test::stream client(ioc.get_executor());
        server = std::make_shared<beast::test::stream>(ioc.get_executor());
        client.connect(*server);
        if (const int size = in.next() % 4; size != 0) client.read_size(size * 7);
        out.stream.emplace(std::move(client));
        co_return out;
      });

  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        std::string body;
        for (int k = 0; k < max_exchanges && !in.empty(); ++k) {
          current = k;
          ++report.exchanges;
          connection.request_body().clear();
          connection.request_body().append(R"({"params":{"prompt":["p)" + std::to_string(k) +
                                           "\"]}}");
          const auto t = co_await connection.async_exchange(body, 64);
          if (t.error != transfer_error::none || t.status < 200 || t.status > 299) continue;
          ++report.answered;
          // The body as the client reads it: usually a view of the read buffer, not `body`.
          if (auto tag = foreign_tag(t.body, k); !tag.empty() && report.crossed.empty()) {
            report.crossed =
                "exchange " + std::to_string(k) + " got " + tag + " in: " + std::string(t.body);
          }
        }
        done = true;
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });

  for (int step = 0; step < max_steps && !done; ++step) {
    while (ioc.poll() > 0) {
    }
    ioc.restart();
    if (done) break;
    if (server && !server->str().empty()) {
      server->clear();  // the request; the server answers it with scripted bytes
      const int segments = 1 + in.next() % 3;
      boost::system::error_code ignored;
      for (int s = 0; s < segments; ++s) {
        if (in.next() % 6 == 0) {
          server->close();
          break;
        }
        asio::write(*server, asio::buffer(response(current, in)), ignored);
      }
      continue;
    }
    // Nothing more will come: the client's wait ends as a request timeout would end it.
    if (server) server->close();
  }
  return report;
}

}  // namespace promptpack::test
