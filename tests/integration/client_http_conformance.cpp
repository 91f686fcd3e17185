// purpose: the client against each response shape RFC 9110/9112 lets a server send, over loopback.
#include <promptpack/client.hpp>

#include <boost/test/unit_test.hpp>

#include <promptpack/protocol/json_text.hpp>

#include <simdjson.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/error_code.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "common/client_bulk.hpp"
#include "common/contains.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using promptpack::client;
using promptpack::client_config;
using promptpack::errc;
using promptpack::prompt_result;
using promptpack::test::contains;
using promptpack::test::describe;
using promptpack::test::numbered;
using promptpack::test::run_bulk;

using strings = std::vector<std::string>;

constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// Guards against a hang only: past the clients' total_timeout_s, every prompt has ended.
constexpr std::chrono::seconds hang_guard{90};

/// One request as the server's script sees it.
struct scripted_request {
  std::size_t index = 0;  ///< among every request the server has read, from 0
  strings prompts;        ///< the body's params.prompt, decoded
};

/// What the server writes back for one request, byte for byte.
struct scripted_answer {
  strings pieces;                      ///< written in turn, one write call each
  std::chrono::microseconds pause{0};  ///< waited after each piece, so that pieces arrive apart
  bool close_after = false;            ///< close the connection once every piece is written
};

using script = std::function<scripted_answer(const scripted_request&)>;

/// The Content-Length of a request head (the client always sends one); 0 when there is none.
std::size_t content_length(std::string_view head) {
  std::string lower(head);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  constexpr std::string_view field = "\r\ncontent-length:";
  const std::size_t at = lower.find(field);
  if (at == std::string::npos) return 0;
  std::size_t start = at + field.size();
  while (start < lower.size() && lower[start] == ' ') ++start;
  std::size_t length = 0;
  const auto parsed = std::from_chars(lower.data() + start, lower.data() + lower.size(), length);
  return parsed.ec == std::errc() ? length : 0;
}

/// The prompts of a request body. A body without them yields none, so the echo answers nothing
/// and the client reports a protocol error instead of the test passing by accident.
strings prompts_of(std::string_view body) {
  strings prompts;
  simdjson::dom::parser parser;
  simdjson::dom::array array;
  if (parser.parse(body.data(), body.size())["params"]["prompt"].get_array().get(array) !=
      simdjson::SUCCESS) {
    return prompts;
  }
  for (simdjson::dom::element item : array) {
    std::string_view prompt;
    if (item.get_string().get(prompt) == simdjson::SUCCESS) prompts.emplace_back(prompt);
  }
  return prompts;
}

/// Reads one request (after what `received` already holds) and returns its prompts, or nothing
/// once the client has closed the connection. Bytes past the request stay in `received`.
asio::awaitable<std::optional<strings>> read_request(tcp::socket& socket, std::string& received) {
  auto [head_ec, head_size] = co_await asio::async_read_until(
      socket, asio::dynamic_buffer(received), "\r\n\r\n", as_tuple_awaitable);
  if (head_ec) co_return std::nullopt;
  const std::size_t request_size =
      head_size + content_length(std::string_view(received).substr(0, head_size));
  if (received.size() < request_size) {
    auto [body_ec, body_size] = co_await asio::async_read(
        socket, asio::dynamic_buffer(received),
        asio::transfer_exactly(request_size - received.size()), as_tuple_awaitable);
    if (body_ec) co_return std::nullopt;
  }
  std::optional<strings> prompts =
      prompts_of(std::string_view(received).substr(head_size, request_size - head_size));
  received.erase(0, request_size);
  co_return prompts;
}

/// A raw HTTP/1.1 server on 127.0.0.1 whose answers a script writes byte for byte, so that each
/// test chooses the framing. One thread runs it; connections are served concurrently (the client
/// holds several open at once), and the script is only ever called on that thread.
class scripted_server {
 public:
  explicit scripted_server(script answer)
      : script_(std::move(answer)),
        acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        port_(acceptor_.local_endpoint().port()) {
    asio::co_spawn(ioc_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  // Stopping abandons every connection mid-step; destroying the context then closes them.
  ~scripted_server() {
    ioc_.stop();
    thread_.join();
  }
  scripted_server(const scripted_server&) = delete;
  scripted_server& operator=(const scripted_server&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/inference"; }
  std::size_t requests() const { return requests_.load(); }
  std::size_t connections() const { return connections_.load(); }
  /// Requests that arrived on a connection which had carried one before.
  std::size_t requests_on_reused_connections() const { return reused_.load(); }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(as_tuple_awaitable);
      if (ec) co_return;
      connections_.fetch_add(1);
      asio::co_spawn(ioc_, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    boost::system::error_code ignored;
    // Each piece leaves in its own segment, so the client reads the answer as it was cut.
    socket.set_option(tcp::no_delay(true), ignored);
    asio::steady_timer pause(socket.get_executor());
    std::string received;
    for (std::size_t on_connection = 0;; ++on_connection) {
      std::optional<strings> prompts = co_await read_request(socket, received);
      if (!prompts) co_return;
      if (on_connection > 0) reused_.fetch_add(1);
      const scripted_request request{.index = requests_.fetch_add(1),
                                     .prompts = std::move(*prompts)};
      const scripted_answer answer = script_(request);
      for (const std::string& piece : answer.pieces) {
        auto [write_ec, written] =
            co_await asio::async_write(socket, asio::buffer(piece), as_tuple_awaitable);
        if (write_ec) co_return;
        if (answer.pause.count() > 0) {
          pause.expires_after(answer.pause);
          co_await pause.async_wait(as_tuple_awaitable);
        }
      }
      if (answer.close_after) {
        socket.shutdown(tcp::socket::shutdown_send, ignored);
        socket.close(ignored);
        co_return;
      }
    }
  }

  script script_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::uint16_t port_;
  std::atomic<std::size_t> requests_{0};
  std::atomic<std::size_t> connections_{0};
  std::atomic<std::size_t> reused_{0};
  std::thread thread_;
};

/// The protocol's answer to `prompts`: each prompt echoed as its one output.
std::string echo_body(const strings& prompts) {
  std::string body = "{\"data\":[";
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    if (i > 0) body += ',';
    body += "{\"prompt\":";
    promptpack::append_json_string(body, prompts[i]);
    body += ",\"output\":[";
    promptpack::append_json_string(body, prompts[i]);
    body += "]}";
  }
  body += "],\"message\":\"ok\"}";
  return body;
}

/// A response framed by Content-Length. `status_line` has no line end; `headers` holds whole
/// header lines, each ending in CRLF.
std::string sized_response(std::string_view status_line, std::string_view body,
                           std::string_view headers = "") {
  std::string out(status_line);
  out += "\r\nContent-Type: application/json\r\nContent-Length: ";
  out += std::to_string(body.size());
  out += "\r\n";
  out += headers;
  out += "\r\n";
  out += body;
  return out;
}

std::string hex(std::size_t n) {
  std::array<char, 16> digits{};
  const char* end = std::to_chars(digits.data(), digits.data() + digits.size(), n, 16).ptr;
  return std::string(digits.data(), static_cast<std::size_t>(end - digits.data()));
}

/// A 200 with `body` chunked (RFC 9112 section 7.1): chunks from 1 to 300 bytes, most with a
/// chunk extension (a token value, a bare name after whitespace, a quoted string holding `;` and
/// escaped quotes), then a last chunk with its own extension and two trailer fields.
std::string chunked_response(std::string_view body) {
  static constexpr std::array<std::size_t, 4> chunk_sizes{1, 7, 64, 300};
  static constexpr std::array<std::string_view, 4> extensions{
      ";name=value", "", " ; flag", ";q=\"a \\\"quoted\\\" value; with a semicolon\""};
  std::string out =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
      "Trailer: X-Trailer, X-Other\r\n\r\n";
  for (std::size_t at = 0, i = 0; at < body.size(); ++i) {
    const std::size_t size = std::min(chunk_sizes[i % chunk_sizes.size()], body.size() - at);
    out += hex(size);
    out += extensions[i % extensions.size()];
    out += "\r\n";
    out += body.substr(at, size);
    out += "\r\n";
    at += size;
  }
  out += "0;last\r\nX-Trailer: a\r\nX-Other: b\r\n\r\n";
  return out;
}

scripted_answer in_one_write(std::string response, bool close_after = false) {
  return {.pieces = {std::move(response)}, .close_after = close_after};
}

/// `response` written 1 to 3 bytes at a time, with a pause after each write: the client reads
/// the status line, the headers and the body in many partial reads.
scripted_answer trickled(std::string_view response) {
  scripted_answer answer{.pause = std::chrono::microseconds(200)};
  for (std::size_t at = 0, i = 0; at < response.size(); ++i) {
    const std::size_t size = std::min<std::size_t>(1 + i % 3, response.size() - at);
    answer.pieces.emplace_back(response.substr(at, size));
    at += size;
  }
  return answer;
}

constexpr std::array<std::string_view, 4> success_status_lines{
    "HTTP/1.1 200 OK", "HTTP/1.1 201 Created", "HTTP/1.1 202 Accepted",
    "HTTP/1.1 203 Non-Authoritative Information"};

constexpr std::string_view redirect_target = "http://127.0.0.1:1/elsewhere";

/// Small batches, so that every test makes many requests; bounded waits, so that a bug fails
/// instead of hanging; no retries, so that a misread answer cannot hide behind a second try.
client_config config_for(const scripted_server& server) {
  client_config config;
  config.endpoints = {{server.url(), 1.0}};
  config.model = "custom/conformance";
  config.max_batch_prompts = 8;
  config.connections_per_endpoint = 4;
  config.max_retries = 0;
  config.connect_timeout_s = 5;
  config.request_timeout_s = 10;
  config.total_timeout_s = 60;
  config.threads = 2;
  return config;
}

/// Every prompt must come back echoed, exactly, over at least as many requests as full batches
/// would take (a partial batch leaves as soon as a connection is free, so there may be more).
void expect_echoed(client& client, const scripted_server& server, const strings& prompts) {
  const std::vector<prompt_result> results = run_bulk(client, prompts, hang_guard);
  BOOST_TEST_REQUIRE(results.size() == prompts.size());
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    BOOST_TEST_REQUIRE(results[i].ok(), "prompt " << i << ": " << describe(results[i]));
    BOOST_TEST(results[i].outputs == strings{prompts[i]});
  }
  const std::size_t batch = client.config().max_batch_prompts;
  BOOST_TEST(server.requests() >= (prompts.size() + batch - 1) / batch);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(client_http_conformance)

BOOST_AUTO_TEST_CASE(http_1_0_answers_that_end_their_connection) {
  // HTTP/1.0 without "Connection: keep-alive" is not persistent (RFC 9112 section 9.3).
  scripted_server server([](const scripted_request& request) {
    return in_one_write(sized_response("HTTP/1.0 200 OK", echo_body(request.prompts)), true);
  });
  promptpack::client client(config_for(server));
  expect_echoed(client, server, numbered("http/1.0", 50));
}

BOOST_AUTO_TEST_CASE(a_body_that_ends_when_the_connection_closes) {
  // No Content-Length and no Transfer-Encoding: the body runs to the close (RFC 9112 6.3).
  scripted_server server([](const scripted_request& request) {
    return in_one_write(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n" +
            echo_body(request.prompts),
        true);
  });
  promptpack::client client(config_for(server));
  expect_echoed(client, server, numbered("close-delimited", 50));
}

BOOST_AUTO_TEST_CASE(chunked_bodies_with_extensions_and_trailers) {
  scripted_server server([](const scripted_request& request) {
    return in_one_write(chunked_response(echo_body(request.prompts)));
  });
  promptpack::client client(config_for(server));
  expect_echoed(client, server, numbered("chunked", 50));
  // The trailers were consumed exactly: the connections stayed usable.
  BOOST_TEST(server.requests_on_reused_connections() > 0u);
}

BOOST_AUTO_TEST_CASE(interim_100_and_103_responses_before_the_final_one) {
  // A client must parse 1xx responses it did not ask for (RFC 9110 section 15.2).
  scripted_server server([](const scripted_request& request) {
    const std::string continue_100 = "HTTP/1.1 100 Continue\r\n\r\n";
    const std::string early_hints_103 =
        "HTTP/1.1 103 Early Hints\r\nLink: </hints.css>; rel=preload\r\n\r\n";
    const std::string final_answer = sized_response("HTTP/1.1 200 OK", echo_body(request.prompts));
    // Alternately in one segment (the final answer sits in the buffer behind the interim ones)
    // and as three writes that arrive apart.
    if (request.index % 2 == 0) return in_one_write(continue_100 + early_hints_103 + final_answer);
    return scripted_answer{.pieces = {continue_100, early_hints_103, final_answer},
                           .pause = std::chrono::milliseconds(2)};
  });
  promptpack::client client(config_for(server));
  expect_echoed(client, server, numbered("interim", 50));
  BOOST_TEST(server.requests_on_reused_connections() > 0u);
}

BOOST_AUTO_TEST_CASE(every_2xx_status_with_a_body_is_an_answer) {
  // 204 and 205 carry no body by definition, so they cannot hold the protocol's answer.
  scripted_server server([](const scripted_request& request) {
    return in_one_write(
        sized_response(success_status_lines[request.index % success_status_lines.size()],
                       echo_body(request.prompts)));
  });
  promptpack::client client(config_for(server));
  expect_echoed(client, server, numbered("2xx", 50));
  BOOST_TEST(server.requests() >= success_status_lines.size());
  BOOST_TEST(server.requests_on_reused_connections() > 0u);
}

BOOST_AUTO_TEST_CASE(answers_trickled_one_to_three_bytes_at_a_time) {
  // Alternately sized and chunked, so that chunk-size lines are cut across reads too.
  scripted_server server([](const scripted_request& request) {
    const std::string body = echo_body(request.prompts);
    return trickled(request.index % 2 == 0 ? sized_response("HTTP/1.1 200 OK", body)
                                           : chunked_response(body));
  });
  promptpack::client client(config_for(server));
  expect_echoed(client, server, numbered("trickled", 50));
  BOOST_TEST(server.requests_on_reused_connections() > 0u);
}

BOOST_AUTO_TEST_CASE(keep_alive_connections_closed_after_every_answer_cost_nothing) {
  // The answer promises keep-alive and the server closes right after it, as one whose idle
  // timeout is shorter than the client's gap between requests: every reuse meets a dead
  // connection, and must go out again on a fresh one without using a retry (there are none).
  scripted_server server([](const scripted_request& request) {
    return in_one_write(sized_response("HTTP/1.1 200 OK", echo_body(request.prompts),
                                       "Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n"),
                        true);
  });
  auto config = config_for(server);
  config.connections_per_endpoint = 64;
  config.max_batch_prompts = 4;
  promptpack::client client(config);
  expect_echoed(client, server, numbered("churn", 2000));
  // Every answered request needed a connection of its own.
  BOOST_TEST(client.stats().connects >= server.requests());
}

BOOST_AUTO_TEST_CASE(status_429_with_retry_after_is_waited_out_without_a_retry) {
  scripted_server server([](const scripted_request& request) {
    if (request.index < 3) {
      return in_one_write(
          "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n");
    }
    return in_one_write(sized_response("HTTP/1.1 200 OK", echo_body(request.prompts)));
  });
  promptpack::client client(config_for(server));  // max_retries 0: waits must not use retries
  expect_echoed(client, server, numbered("limited", 50));
  const auto stats = client.stats();
  BOOST_TEST(stats.rate_limited_answers == 3u);
  BOOST_TEST(stats.rate_limit_wait_s >= 0.9);  // Retry-After honoured, not the short backoff
}

BOOST_AUTO_TEST_CASE(a_redirect_is_not_followed_and_names_its_location) {
  scripted_server server([](const scripted_request&) {
    const std::string target(redirect_target);
    return in_one_write("HTTP/1.1 302 Found\r\nLocation: " + target +
                        "\r\nContent-Length: 0\r\n\r\n");
  });
  auto config = config_for(server);
  config.max_retries = 3;  // retries are available, and a redirect must not use them
  promptpack::client client(config);
  const std::vector<prompt_result> results = run_bulk(client, {"redirected"}, hang_guard);
  BOOST_TEST_REQUIRE(results.size() == 1u);
  const prompt_result& result = results[0];
  BOOST_TEST_REQUIRE(!result.ok(), "a 302 was taken as an answer");
  BOOST_TEST((result.error->type == errc::http_status), describe(result));
  BOOST_TEST(result.error->http_status == 302);
  BOOST_TEST(result.error->attempts == 1);
  BOOST_TEST(contains(result.error->message, redirect_target), result.error->message);
  BOOST_TEST(server.requests() == 1u);
  // Every connection the client opened was to this server: none went to the Location.
  BOOST_TEST(client.stats().connects == server.connections());
}

BOOST_AUTO_TEST_CASE(an_answer_over_max_response_bytes_fails_at_once_however_it_is_framed) {
  // 5,000 bytes against a limit of 4,096: said up front by Content-Length (request 1), or found
  // while reading chunks (request 2). Retrying would only fetch the same answer again.
  scripted_server server([](const scripted_request& request) {
    const std::string body(5000, ' ');
    return in_one_write(request.index % 2 == 0 ? sized_response("HTTP/1.1 200 OK", body)
                                               : chunked_response(body));
  });
  auto config = config_for(server);
  config.max_batch_prompts = 1;
  config.connections_per_endpoint = 1;
  config.max_retries = 3;
  config.max_response_bytes = 4096;
  promptpack::client client(config);
  const std::vector<prompt_result> results =
      run_bulk(client, {"announced too long", "found too long"}, hang_guard);
  BOOST_TEST_REQUIRE(results.size() == 2u);
  for (const prompt_result& result : results) {
    BOOST_TEST_REQUIRE(!result.ok(), "an answer over the limit was taken");
    BOOST_TEST((result.error->type == errc::protocol), describe(result));
    BOOST_TEST(result.error->attempts == 1);
    BOOST_TEST(contains(result.error->message, "over max_response_bytes (4096)"),
               result.error->message);
    BOOST_TEST(contains(result.error->message, "send fewer prompts per request"),
               result.error->message);
  }
  BOOST_TEST(server.requests() == 2u);
}

BOOST_AUTO_TEST_CASE(a_status_below_100_is_not_taken_for_an_interim_answer) {
  // Beast frames "099" like any answer, body and all; treated as a 1xx, its body would be skipped
  // and whatever came next read as the answer. It is a framing error: the connection closes.
  scripted_server server([](const scripted_request& request) {
    return in_one_write(sized_response("HTTP/1.1 099 Odd", echo_body(request.prompts)));
  });
  promptpack::client client(config_for(server));  // max_retries 0
  const std::vector<prompt_result> results = run_bulk(client, {"odd status"}, hang_guard);
  BOOST_TEST_REQUIRE(results.size() == 1u);
  BOOST_TEST_REQUIRE(!results[0].ok(), "an answer with status 099 was taken");
  BOOST_TEST((results[0].error->type == errc::protocol), describe(results[0]));
  BOOST_TEST(contains(results[0].error->message, "status 99, which HTTP does not define"),
             results[0].error->message);
}

BOOST_AUTO_TEST_SUITE_END()
