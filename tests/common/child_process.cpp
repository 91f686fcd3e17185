// posix_spawn with piped stdout and stderr, polled reads with a deadline, and a reaping destructor.
#include "common/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace promptpack::test {
namespace {

using clock_type = std::chrono::steady_clock;

[[noreturn]] void fail(const char* what, int error) {
  throw std::runtime_error(std::string(what) + ": " + std::strerror(error));
}

/// Appends what one read gives; false at end of file or on an error.
bool drain(int fd, std::string& into) {
  char chunk[65536];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    into.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
}

int milliseconds_until(clock_type::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
  return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

}  // namespace

child_process::child_process(const std::string& program, const std::vector<std::string>& args) {
  int out[2];
  int err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) fail("pipe2", errno);
  if (::pipe2(err, O_CLOEXEC) != 0) {
    const int error = errno;
    ::close(out[0]);
    ::close(out[1]);
    fail("pipe2", error);
  }
  out_fd_ = out[0];
  err_fd_ = err[0];
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  // The child starts with an empty signal mask and the default disposition for every signal the
  // test runner may have changed (Boost.Test catches some, and SIGPIPE is often ignored).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t signals;
  sigemptyset(&signals);
  posix_spawnattr_setsigmask(&attr, &signals);
  sigfillset(&signals);
  sigdelset(&signals, SIGKILL);
  sigdelset(&signals, SIGSTOP);
  posix_spawnattr_setsigdefault(&attr, &signals);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> strings{program};
  strings.insert(strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  const int rc = ::posix_spawn(&pid_, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    pid_ = -1;
    ::close(out_fd_);
    ::close(err_fd_);
    fail("posix_spawn", rc);
  }
}

child_process::~child_process() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    if (!wait_for_exit(std::chrono::seconds(5))) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  ::close(out_fd_);
  ::close(err_fd_);
}

std::string child_process::read_stdout_line(std::chrono::milliseconds guard) {
  const auto deadline = clock_type::now() + guard;
  for (;;) {
    if (const auto nl = out_.find('\n'); nl != std::string::npos) {
      std::string line = out_.substr(0, nl);
      out_.erase(0, nl + 1);
      return line;
    }
    pollfd pfd{out_fd_, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, milliseconds_until(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0 || !drain(out_fd_, out_)) return {};
  }
}

process_result child_process::finish(std::chrono::milliseconds guard) {
  const auto deadline = clock_type::now() + guard;
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  std::string* sinks[2] = {&out_, &err_};
  int open_pipes = 2;
  while (open_pipes > 0 && clock_type::now() < deadline) {
    if (::poll(fds, 2, std::min(100, milliseconds_until(deadline))) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      if (!drain(fds[i].fd, *sinks[i])) {
        fds[i].fd = -1;  // poll ignores negative descriptors
        --open_pipes;
      }
    }
  }
  process_result result;
  const auto grace = std::chrono::milliseconds(std::max(1000, milliseconds_until(deadline)));
  if (open_pipes > 0 || !wait_for_exit(grace)) {  // hung: report -1
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  } else if (WIFEXITED(status_)) {
    result.exit_code = WEXITSTATUS(status_);
  } else if (WIFSIGNALED(status_)) {
    result.exit_code = 128 + WTERMSIG(status_);
  }
  result.out = std::move(out_);
  result.err = std::move(err_);
  out_.clear();
  err_.clear();
  return result;
}

void child_process::send(int signal_number) const {
  if (pid_ > 0) ::kill(pid_, signal_number);  // never -1 or 0: those reach other processes
}

bool child_process::wait_for_exit(std::chrono::milliseconds limit) {
  if (pid_ <= 0) return true;  // reaped already; status_ holds how it ended
  const auto deadline = clock_type::now() + limit;
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      status_ = status;
      pid_ = -1;
      return true;
    }
    if (done < 0 && errno != EINTR) return false;
    if (clock_type::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

process_result run_process(const std::string& program, const std::vector<std::string>& args,
                           std::chrono::milliseconds guard) {
  child_process child(program, args);
  return child.finish(guard);
}

std::uint16_t announced_port(const std::string& line) {
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

}  // namespace promptpack::test
