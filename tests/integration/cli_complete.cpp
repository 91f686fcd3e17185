// purpose: the real `promptpack complete` binary: answers, https and one-line errors.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/reference_fixture.hpp"
#include "common/test_ca.hpp"

namespace {

using promptpack::reference::generator_kind;
using promptpack::reference::reference_config;
using promptpack::test::running_server;
using promptpack::test::test_ca;
using clock_type = std::chrono::steady_clock;

// Guards against a hung child only; nothing here measures speed.
constexpr std::chrono::seconds hang_guard{20};

struct cli_result {
  int exit_code = -1;  ///< -1 when the child hung or died of a signal
  std::string out;
  std::string err;
};

/// `promptpack ARGS...` with stdout and stderr on pipes. The destructor kills and reaps a child
/// that is still running, so a failed test leaves no process behind.
class child_process {
 public:
  explicit child_process(const std::vector<std::string>& args) {
    std::vector<std::string> strings{PROMPTPACK_BINARY};
    strings.insert(strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    int out[2];
    int err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
      throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
    }
    pid_ = fork();
    if (pid_ == 0) {  // only async-signal-safe calls until exec
      dup2(out[1], STDOUT_FILENO);
      dup2(err[1], STDERR_FILENO);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    close(err[1]);
    out_fd_ = out[0];
    err_fd_ = err[0];
    if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  ~child_process() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(out_fd_);
    close(err_fd_);
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// Reads both pipes to their end and reaps the child (killing it after the hang guard).
  cli_result finish() {
    cli_result result;
    const auto deadline = clock_type::now() + hang_guard;
    pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open_pipes = 2;
    while (open_pipes > 0 && clock_type::now() < deadline) {
      if (poll(fds, 2, 100) < 0 && errno != EINTR) break;
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || fds[i].revents == 0) continue;
        char buffer[4096];
        const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
        if (n > 0) {
          sinks[i]->append(buffer, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
          fds[i].fd = -1;  // poll ignores negative descriptors
          --open_pipes;
        }
      }
    }
    if (open_pipes > 0) kill(pid_, SIGKILL);  // hung: the test fails on exit_code
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    if (open_pipes == 0 && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    return result;
  }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
};

cli_result run_cli(const std::vector<std::string>& args) {
  child_process child(args);
  return child.finish();
}

reference_config server_config(generator_kind generator) {
  reference_config config;
  config.generator = generator;
  return config;
}

reference_config tls_config(const test_ca& ca) {
  auto config = server_config(generator_kind::echo);
  config.tls_cert_file = ca.server_cert().string();
  config.tls_key_file = ca.server_key().string();
  return config;
}

/// `complete` against `api_base` with the model of the issue, plus `extra` arguments.
std::vector<std::string> complete_args(const std::string& api_base,
                                       std::vector<std::string> extra) {
  std::vector<std::string> args{"complete", "--api-base", api_base, "--model",
                                "custom/meta-llama/Llama-2-13b-hf"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::uint16_t dead_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

/// The error output of a failed run: one line, no crash report.
void check_one_line_error(const cli_result& r) {
  BOOST_TEST(r.exit_code > 0, "exit code " << r.exit_code);
  BOOST_TEST(r.out.empty(), r.out);
  BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1, r.err);
  BOOST_TEST(r.err.ends_with('\n'), r.err);
  for (std::string_view crash : {"terminate", "what()", "Aborted", "exception", "#0 "}) {
    BOOST_TEST(!contains(r.err, crash), r.err);
  }
}

/// The content of choices[0] of the chat.completion printed on stdout (checks its shape).
std::string check_chat_completion(const cli_result& r, std::string_view model) {
  BOOST_TEST_REQUIRE(r.exit_code == 0, "exit " << r.exit_code << ", stderr: " << r.err);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  BOOST_TEST_REQUIRE(parser.parse(r.out).get(root) == simdjson::SUCCESS, "not JSON: " << r.out);
  std::string_view object, got_model, id, role, content;
  BOOST_TEST_REQUIRE(root["object"].get_string().get(object) == simdjson::SUCCESS);
  BOOST_TEST(object == "chat.completion");
  BOOST_TEST_REQUIRE(root["model"].get_string().get(got_model) == simdjson::SUCCESS);
  BOOST_TEST(got_model == model);
  BOOST_TEST_REQUIRE(root["id"].get_string().get(id) == simdjson::SUCCESS);
  BOOST_TEST(id.starts_with("chatcmpl-"));
  std::int64_t created = 0;
  BOOST_TEST(root["created"].get_int64().get(created) == simdjson::SUCCESS);
  BOOST_TEST(created > 0);
  const auto choice = root["choices"].at(0);
  BOOST_TEST_REQUIRE(choice["message"]["role"].get_string().get(role) == simdjson::SUCCESS);
  BOOST_TEST(role == "assistant");
  BOOST_TEST_REQUIRE(choice["message"]["content"].get_string().get(content) == simdjson::SUCCESS);
  std::string_view finish_reason;
  BOOST_TEST(choice["finish_reason"].get_string().get(finish_reason) == simdjson::SUCCESS);
  std::int64_t prompt_tokens = -1, completion_tokens = -1, total_tokens = -1;
  BOOST_TEST(root["usage"]["prompt_tokens"].get_int64().get(prompt_tokens) == simdjson::SUCCESS);
  BOOST_TEST(root["usage"]["completion_tokens"].get_int64().get(completion_tokens) ==
             simdjson::SUCCESS);
  BOOST_TEST(root["usage"]["total_tokens"].get_int64().get(total_tokens) == simdjson::SUCCESS);
  BOOST_TEST(total_tokens == prompt_tokens + completion_tokens);
  return std::string(content);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_complete)

BOOST_AUTO_TEST_CASE(prints_an_openai_chat_completion) {
  running_server server(server_config(generator_kind::text));
  const auto r =
      run_cli(complete_args(server.url(), {"--max-tokens", "10", "The capital of France is P"}));
  const std::string content = check_chat_completion(r, "meta-llama/Llama-2-13b-hf");
  BOOST_TEST(!content.empty());
  BOOST_TEST(std::count(r.out.begin(), r.out.end(), '\n') == 1);  // one JSON line
  simdjson::dom::parser parser;
  const auto root = parser.parse(r.out);
  BOOST_TEST(root["usage"]["prompt_tokens"].get_int64().value() == 6);
  BOOST_TEST(root["usage"]["completion_tokens"].get_int64().value() == 10);  // max_tokens words
  BOOST_TEST(server.server.stats().prompts.load() == 1u);
}

BOOST_AUTO_TEST_CASE(messages_are_joined_with_one_space) {
  running_server server(server_config(generator_kind::echo));
  const auto r = run_cli(complete_args(
      server.url(),
      {"--messages", R"([{"role":"user","content":"a"},{"role":"user","content":"b"}])"}));
  BOOST_TEST(check_chat_completion(r, "meta-llama/Llama-2-13b-hf") == "a b");
}

BOOST_AUTO_TEST_CASE(a_dead_port_is_a_one_line_connection_error) {
  const std::string port = std::to_string(dead_port());
  const auto r = run_cli(complete_args("http://127.0.0.1:" + port + "/inference", {"hello"}));
  check_one_line_error(r);
  BOOST_TEST(contains(r.err, "connection"), r.err);
  BOOST_TEST(contains(r.err, "127.0.0.1:" + port), r.err);
}

BOOST_AUTO_TEST_CASE(https_with_ca_file_works) {
  test_ca ca;
  running_server server(tls_config(ca));
  const auto r = run_cli(complete_args(server.url() + "/inference",
                                       {"--ca-file", ca.ca_cert().string(), "secure hello"}));
  BOOST_TEST(check_chat_completion(r, "meta-llama/Llama-2-13b-hf") == "secure hello");
}

BOOST_AUTO_TEST_CASE(an_untrusted_certificate_is_a_one_line_tls_error) {
  test_ca ca;
  running_server server(tls_config(ca));
  const auto r = run_cli(complete_args(server.url() + "/inference", {"hello"}));
  check_one_line_error(r);
  BOOST_TEST(contains(r.err, "tls"), r.err);
  BOOST_TEST(contains(r.err, "certificate"), r.err);
}

BOOST_AUTO_TEST_CASE(a_wrong_host_name_is_a_one_line_tls_error) {
  test_ca ca("otherhost");  // names otherhost and 127.0.0.1, not localhost
  running_server server(tls_config(ca));
  const auto r =
      run_cli(complete_args("https://localhost:" + std::to_string(server.port()) + "/inference",
                            {"--ca-file", ca.ca_cert().string(), "hello"}));
  check_one_line_error(r);
  BOOST_TEST(contains(r.err, "tls"), r.err);
  BOOST_TEST(contains(r.err, "localhost"), r.err);
}

BOOST_AUTO_TEST_CASE(without_api_base_it_uses_the_embedded_endpoint) {
  const auto r = run_cli({"complete", "--model", "custom/meta-llama/Llama-2-13b-hf", "--max-tokens",
                          "5", "The capital of France is P"});
  BOOST_TEST(contains(r.err, "embedded"), r.err);
  BOOST_TEST(!check_chat_completion(r, "meta-llama/Llama-2-13b-hf").empty());
}

BOOST_AUTO_TEST_CASE(malformed_messages_is_a_one_line_usage_error) {
  running_server server(server_config(generator_kind::echo));
  const auto r = run_cli(complete_args(server.url(), {"--messages", "[{\"role\":"}));
  check_one_line_error(r);
  BOOST_TEST(contains(r.err, "--messages"), r.err);
  BOOST_TEST(server.server.stats().requests.load() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
