// purpose: the real CLI keeps the key secret and the terminal safe: control characters refused,
// echoed keys redacted, endpoint text escaped, --insecure announced.
#include <boost/test/unit_test.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/child_process.hpp"
#include "common/contains.hpp"
#include "common/jsonl_job.hpp"
#include "common/reference_fixture.hpp"

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using promptpack::reference::generator_kind;
using promptpack::reference::reference_config;
using promptpack::test::contains;
using promptpack::test::job_files;
using promptpack::test::json_quoted;
using promptpack::test::parse_records;
using promptpack::test::process_result;
using promptpack::test::read_file;
using promptpack::test::run_promptpack;
using promptpack::test::running_server;
using promptpack::test::string_at;
using promptpack::test::write_file;

constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

const std::string key = "sk-live-7Hq2Zx9Lm4Pw8Rt1";

reference_config echo_config() {
  reference_config config;
  config.generator = generator_kind::echo;
  return config;
}

/// Sets an environment variable for one test (children inherit it), and restores it after.
class scoped_env {
 public:
  scoped_env(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~scoped_env() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

/// A job's folder with the key in a file beside the input.
struct keyed_job_files : job_files {
  explicit keyed_job_files(std::string_view input) : job_files(input) {
    write_file(key_file, key + "\n");  // the line end an editor adds, which is not the key's
  }

  std::string key_file = dir.file("key");
};

/// `run -i IN -o OUT --api-base API_BASE EXTRA...`
process_result run_job(const job_files& files, const std::string& api_base,
                       std::vector<std::string> extra) {
  std::vector<std::string> args{"run", "-i", files.in, "-o", files.out, "--api-base", api_base};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_promptpack(args);
}

/// One input line.
std::string line(std::string_view id, std::string_view prompt) {
  return "{\"custom_id\":" + json_quoted(id) + ",\"prompt\":" + json_quoted(prompt) + "}\n";
}

/// The content of choices[0] of the chat.completion `complete` printed.
std::string completion_content(const process_result& r) {
  simdjson::dom::parser parser;
  std::string_view content;
  const auto error =
      parser.parse(r.out)["choices"].at(0)["message"]["content"].get_string().get(content);
  BOOST_TEST_REQUIRE(error == simdjson::SUCCESS, "not a chat.completion: " << r.out);
  return std::string(content);
}

/// Checks that a refused command line sent nothing, wrote nothing, and named the setting.
void check_refused(const process_result& r, const running_server& server, const job_files& files,
                   std::string_view setting_message) {
  BOOST_TEST(r.exit_code == 2, "stderr: " << r.err);
  BOOST_TEST(contains(r.err, setting_message), r.err);
  BOOST_TEST(server.server.stats().connections.load() == 0u);
  BOOST_TEST(server.server.stats().requests.load() == 0u);
  BOOST_TEST(!std::filesystem::exists(files.out));
}

/// Checks that `text` can reach a terminal harmlessly and holds no trace of the key.
void check_inert_and_redacted(std::string_view text) {
  BOOST_TEST(std::none_of(text.begin(), text.end(), [](char c) { return c == '\x1b'; }), text);
  BOOST_TEST(!contains(text, key), text);
  BOOST_TEST(contains(text, "[redacted]"), text);
}

/// A loopback endpoint that answers every request with the same bytes, however hostile: what an
/// endpoint's own words can do to messages is what these tests are about.
class canned_endpoint {
 public:
  explicit canned_endpoint(std::string answer)
      : answer_(std::move(answer)),
        acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        port_(acceptor_.local_endpoint().port()) {
    asio::co_spawn(ioc_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  // Stopping abandons every connection; destroying the context then closes them.
  ~canned_endpoint() {
    ioc_.stop();
    thread_.join();
  }
  canned_endpoint(const canned_endpoint&) = delete;
  canned_endpoint& operator=(const canned_endpoint&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/inference"; }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(as_tuple_awaitable);
      if (ec) co_return;
      asio::co_spawn(ioc_, answer_each_request(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> answer_each_request(tcp::socket socket) {
    boost::beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> request;
      auto [read_ec, bytes_read] =
          co_await http::async_read(socket, buffer, request, as_tuple_awaitable);
      if (read_ec) co_return;
      auto [write_ec, bytes_written] =
          co_await asio::async_write(socket, asio::buffer(answer_), as_tuple_awaitable);
      if (write_ec) co_return;
    }
  }

  std::string answer_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::uint16_t port_;
  std::thread thread_;
};

/// An HTTP/1.1 response with `body`, framed by Content-Length.
std::string response(std::string_view status_line, std::string_view body) {
  return std::string(status_line) + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + std::string(body);
}

/// A 400 whose body clears the screen, quotes the key and forges a line of output.
std::string hostile_rejection() {
  return response("HTTP/1.1 400 Bad Request",
                  "\x1b[2J\x1b[31mrejected key " + key + "\r\npromptpack complete: all good");
}

/// A 200 whose "message" (JSON-escaped, so raw once parsed) retitles the terminal and quotes
/// the key.
std::string hostile_message() {
  return response("HTTP/1.1 200 OK", R"({"data":[],"message":"\u001b]0;pwned\u0007 bad key )" +
                                         key + R"(\nINFO all good"})");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_security)

BOOST_AUTO_TEST_CASE(an_echoed_key_is_redacted_in_run_records) {
  running_server server(echo_config());
  keyed_job_files files(line("a", "my key is " + key + ", twice: " + key) +
                        line("b", "nothing secret"));
  const auto r = run_job(files, server.url(), {"--api-key-file", files.key_file});
  BOOST_TEST_REQUIRE(r.exit_code == 0, "stderr: " << r.err);
  const auto records = parse_records(read_file(files.out));
  BOOST_TEST(string_at(records.only("a"), "/output/0") ==
             "my key is [redacted], twice: [redacted]");
  BOOST_TEST(string_at(records.only("b"), "/output/0") == "nothing secret");
  BOOST_TEST(!contains(read_file(files.out), key));
}

BOOST_AUTO_TEST_CASE(a_key_from_the_environment_loses_its_line_end) {
  const scoped_env env("PROMPTPACK_API_KEY", key + "\r\n");
  running_server server(echo_config());
  keyed_job_files files(line("a", "echo " + key));
  const auto r = run_job(files, server.url(), {});
  BOOST_TEST_REQUIRE(r.exit_code == 0, "stderr: " << r.err);
  BOOST_TEST(string_at(parse_records(read_file(files.out)).only("a"), "/output/0") ==
             "echo [redacted]");
}

BOOST_AUTO_TEST_CASE(an_echoed_key_is_redacted_in_complete_output) {
  running_server server(echo_config());
  keyed_job_files files("");
  const auto r = run_promptpack({"complete", "--api-base", server.url(), "--api-key-file",
                                 files.key_file, "repeat after me: " + key});
  BOOST_TEST_REQUIRE(r.exit_code == 0, "stderr: " << r.err);
  BOOST_TEST(completion_content(r) == "repeat after me: [redacted]");
  BOOST_TEST(!contains(r.out, key));
}

BOOST_AUTO_TEST_CASE(a_header_with_a_line_break_is_refused_before_anything_is_sent) {
  running_server server(echo_config());
  keyed_job_files files(line("a", "hello"));
  const auto r = run_job(files, server.url(), {"--header", "X: a\r\nInjected: 1"});
  check_refused(r, server, files,
                "client_config.headers[0] value contains a control character (CR at byte 2)");
  BOOST_TEST(!contains(r.err, "Injected"), r.err);
}

BOOST_AUTO_TEST_CASE(a_key_with_a_line_break_is_refused_before_anything_is_sent) {
  running_server server(echo_config());
  keyed_job_files files(line("a", "hello"));
  const auto r = run_job(files, server.url(), {"--api-key", "k\r\nX: y"});
  check_refused(r, server, files,
                "client_config.api_key contains a control character (CR at byte 2)");
  BOOST_TEST(!contains(r.err, "X: y"), r.err);
}

BOOST_AUTO_TEST_CASE(a_header_name_that_is_not_a_token_is_refused) {
  running_server server(echo_config());
  keyed_job_files files(line("a", "hello"));
  const auto r = run_job(files, server.url(), {"--header", "Bad Name: v"});
  check_refused(r, server, files, "client_config.headers[0] name holds a space at byte 4");
}

BOOST_AUTO_TEST_CASE(insecure_is_announced_on_stderr) {
  running_server server(echo_config());
  keyed_job_files files(line("a", "hello"));
  const auto r = run_job(files, server.url(), {"--insecure"});
  BOOST_TEST(r.exit_code == 0, "stderr: " << r.err);
  BOOST_TEST(contains(r.err, "warning: --insecure: endpoint certificates are not verified"), r.err);
}

BOOST_AUTO_TEST_CASE(an_endpoint_rejection_reaches_stderr_escaped_and_redacted) {
  canned_endpoint endpoint(hostile_rejection());
  keyed_job_files files("");
  const auto r = run_promptpack(
      {"complete", "--api-base", endpoint.url(), "--api-key-file", files.key_file, "hello"});
  BOOST_TEST(r.exit_code == 1, "stderr: " << r.err);
  check_inert_and_redacted(r.err);
  BOOST_TEST(contains(r.err, "\\x1b[2J\\x1b[31mrejected key [redacted]\\r\\npromptpack"), r.err);
  // One line: the forged "promptpack complete: all good" stays inside it.
  BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1, r.err);
}

BOOST_AUTO_TEST_CASE(an_endpoint_message_reaches_stderr_escaped_and_redacted) {
  canned_endpoint endpoint(hostile_message());
  keyed_job_files files("");
  const auto r = run_promptpack({"complete", "--api-base", endpoint.url(), "--api-key-file",
                                 files.key_file, "--retries", "0", "hello"});
  BOOST_TEST(r.exit_code == 1, "stderr: " << r.err);
  check_inert_and_redacted(r.err);
  BOOST_TEST(contains(r.err, "\\x1b]0;pwned\\x07 bad key [redacted]\\nINFO all good"), r.err);
  BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1, r.err);
}

BOOST_AUTO_TEST_CASE(an_endpoint_rejection_reaches_run_records_escaped_and_redacted) {
  canned_endpoint endpoint(hostile_rejection());
  keyed_job_files files(line("a", "hello"));
  const auto r = run_job(files, endpoint.url(), {"--api-key-file", files.key_file});
  BOOST_TEST(r.exit_code == 1, "stderr: " << r.err);
  const std::string message =
      string_at(parse_records(read_file(files.out)).only("a"), "/error/message");
  check_inert_and_redacted(message);
  BOOST_TEST(contains(message, "\\x1b[2J"), message);
  BOOST_TEST(!contains(read_file(files.out), key));
}

BOOST_AUTO_TEST_SUITE_END()
