// purpose: the real `promptpack` binary: `serve` end to end, --help, and usage errors.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/http_probe.hpp"

extern char** environ;

namespace {

using promptpack::test::http_probe;
using clock_type = std::chrono::steady_clock;

// Guards against a hung child only; nothing here measures speed.
constexpr std::chrono::seconds hang_guard{20};

/// A running `promptpack` with its stdout and stderr on pipes. The destructor sends SIGTERM (then
/// SIGKILL if it does not exit) and reaps the child, so a failed test leaves no process behind.
class child_process {
 public:
  explicit child_process(const std::vector<std::string>& args) {
    int out[2];
    int err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
      throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
    }
    out_fd_ = out[0];
    err_fd_ = err[0];
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
    // The child starts with the default disposition and an empty mask for the stop signals.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t signals;
    sigemptyset(&signals);
    posix_spawnattr_setsigmask(&attr, &signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGPIPE);
    posix_spawnattr_setsigdefault(&attr, &signals);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    std::vector<std::string> argv_strings{PROMPTPACK_BINARY};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_strings) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, argv[0], &actions, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(out[1]);
    ::close(err[1]);
    if (rc != 0) {
      pid_ = -1;
      throw std::runtime_error(std::string("posix_spawn: ") + std::strerror(rc));
    }
  }

  ~child_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      if (!wait_for_exit(std::chrono::seconds(5))) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
      }
    }
    ::close(out_fd_);
    ::close(err_fd_);
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const { return pid_; }

  /// The next line of stdout without its '\n'; "" if stdout closes first or the guard expires.
  std::string read_stdout_line() {
    const auto deadline = clock_type::now() + hang_guard;
    for (;;) {
      if (const auto nl = out_.find('\n'); nl != std::string::npos) {
        std::string line = out_.substr(0, nl);
        out_.erase(0, nl + 1);
        return line;
      }
      if (!read_some(out_fd_, out_, deadline)) return {};
    }
  }

  /// Reads both pipes to their end, then reaps the child. Returns the exit code, or 128 + signal.
  int finish() {
    const auto deadline = clock_type::now() + hang_guard;
    bool out_open = true;
    bool err_open = true;
    while ((out_open || err_open) && clock_type::now() < deadline) {
      pollfd fds[2] = {{out_open ? out_fd_ : -1, POLLIN, 0}, {err_open ? err_fd_ : -1, POLLIN, 0}};
      if (::poll(fds, 2, 100) < 0 && errno != EINTR) break;
      if (out_open && fds[0].revents != 0) out_open = drain(out_fd_, out_);
      if (err_open && fds[1].revents != 0) err_open = drain(err_fd_, err_);
    }
    return reap();
  }

  void send(int signal_number) const { ::kill(pid_, signal_number); }
  const std::string& stdout_text() const { return out_; }
  const std::string& stderr_text() const { return err_; }

 private:
  // One read into `into`; false at end of file, on error, or when the deadline passes.
  static bool read_some(int fd, std::string& into, clock_type::time_point deadline) {
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
      if (left.count() <= 0) return false;
      pollfd pfd{fd, POLLIN, 0};
      const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return false;
      return drain(fd, into);
    }
  }

  static bool drain(int fd, std::string& into) {
    char chunk[4096];
    for (;;) {
      const ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      into.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
  }

  bool wait_for_exit(std::chrono::milliseconds limit) {
    const auto deadline = clock_type::now() + limit;
    do {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        status_ = status;
        pid_ = -1;
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    } while (clock_type::now() < deadline);
    return false;
  }

  int reap() {
    if (pid_ > 0 && !wait_for_exit(hang_guard)) return -1;
    if (WIFEXITED(status_)) return WEXITSTATUS(status_);
    if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
    return -1;
  }

  pid_t pid_ = -1;
  int status_ = 0;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
};

struct run_result {
  int exit_code;
  std::string out;
  std::string err;
};

/// Runs `promptpack ARGS...` to completion.
run_result run(const std::vector<std::string>& args) {
  child_process child(args);
  const int code = child.finish();
  return {code, child.stdout_text(), child.stderr_text()};
}

/// Parses the port of a `listening on http://127.0.0.1:PORT` line; 0 when it is not one.
std::uint16_t port_of(const std::string& line) {
  const std::string prefix = "listening on http://127.0.0.1:";
  if (!line.starts_with(prefix)) return 0;
  const std::string digits = line.substr(prefix.size());
  if (digits.empty() || digits.size() > 5 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    return 0;
  }
  const unsigned long port = std::stoul(digits);
  return port <= 65535 ? static_cast<std::uint16_t>(port) : 0;
}

std::string three_prompt_body() {
  return R"({"model":"m","params":{"prompt":["one","two","three"],"max_tokens":4}})";
}

/// Number of entries in data[]; 0 when the body is not an answer.
std::size_t data_size(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::array data;
  if (parser.parse(body)["data"].get_array().get(data)) return 0;
  return data.size();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_serve)

BOOST_AUTO_TEST_CASE(serve_prints_its_address_answers_and_exits_0_on_sigterm) {
  child_process serve({"serve", "--port", "0"});
  const std::string line = serve.read_stdout_line();
  const std::uint16_t port = port_of(line);
  BOOST_TEST_REQUIRE(port != 0, "first stdout line: '" << line << "'");
  {
    http_probe probe(port);
    const auto res = probe.post("/inference", three_prompt_body());
    BOOST_TEST(res.status == 200);
    BOOST_TEST(data_size(res.body) == 3u, res.body);
    BOOST_TEST(probe.get("/health").status == 200);
  }
  serve.send(SIGTERM);
  BOOST_TEST(serve.finish() == 0, "stderr: " << serve.stderr_text());
}

BOOST_AUTO_TEST_CASE(serve_flags_reach_the_server) {
  child_process serve(
      {"serve", "--port", "0", "--generator", "echo", "--max-batch", "2", "--threads", "2"});
  const std::uint16_t port = port_of(serve.read_stdout_line());
  BOOST_TEST_REQUIRE(port != 0);
  http_probe probe(port);
  BOOST_TEST(probe.post("/", three_prompt_body()).status == 413);
  const auto res = probe.post("/", R"({"model":"m","params":{"prompt":["echo me","and me"]}})");
  BOOST_TEST(res.status == 200);
  BOOST_TEST(res.body.find(R"({"prompt":"echo me","output":["echo me"]})") != std::string::npos,
             res.body);
  serve.send(SIGINT);
  BOOST_TEST(serve.finish() == 0, "stderr: " << serve.stderr_text());
}

BOOST_AUTO_TEST_CASE(help_lists_serve) {
  const auto result = run({"--help"});
  BOOST_TEST(result.exit_code == 0);
  BOOST_TEST(result.out.find("serve") != std::string::npos, result.out);
}

BOOST_AUTO_TEST_CASE(serve_help_lists_its_options) {
  const auto result = run({"serve", "--help"});
  BOOST_TEST(result.exit_code == 0);
  for (const char* option : {"--max-batch", "--port", "--tls-cert", "--generator", "--fail-rate"}) {
    BOOST_TEST(result.out.find(option) != std::string::npos, option << " in: " << result.out);
  }
}

BOOST_AUTO_TEST_CASE(unknown_flag_is_a_usage_error) {
  const auto result = run({"serve", "--no-such-flag"});
  BOOST_TEST(result.exit_code == 2);
  BOOST_TEST(result.err.find("--no-such-flag") != std::string::npos, "stderr: " << result.err);
  BOOST_TEST(result.out.find("listening") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(no_subcommand_is_a_usage_error) {
  const auto result = run({});
  BOOST_TEST(result.exit_code != 0);
  BOOST_TEST(!result.err.empty());
}

BOOST_AUTO_TEST_CASE(tls_cert_without_key_is_a_usage_error) {
  // An existing file, so that the missing --tls-key is the only thing wrong.
  const auto cert = std::filesystem::temp_directory_path() /
                    ("promptpack-cli-cert-" + std::to_string(::getpid()) + ".pem");
  std::ofstream(cert) << "not really a certificate\n";
  const auto result = run({"serve", "--port", "0", "--tls-cert", cert.string()});
  std::filesystem::remove(cert);
  BOOST_TEST(result.exit_code == 2);
  BOOST_TEST(result.err.find("--tls-key") != std::string::npos, "stderr: " << result.err);
  BOOST_TEST(result.out.find("listening") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(unreadable_tls_files_are_a_usage_error) {
  const auto cert = std::filesystem::temp_directory_path() /
                    ("promptpack-cli-bad-" + std::to_string(::getpid()) + ".pem");
  std::ofstream(cert) << "not really a certificate\n";
  const auto result =
      run({"serve", "--port", "0", "--tls-cert", cert.string(), "--tls-key", cert.string()});
  std::filesystem::remove(cert);
  BOOST_TEST(result.exit_code == 2);
  BOOST_TEST(!result.err.empty());
  BOOST_TEST(result.out.find("listening") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
