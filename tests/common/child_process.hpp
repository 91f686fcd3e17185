// A child process for CLI tests: stdout and stderr on pipes, stdin from /dev/null, always reaped.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace promptpack::test {

/// Guards against a hung child only; nothing measures speed with it.
inline constexpr std::chrono::seconds default_hang_guard{30};

/// How a finished child ended and what it printed.
struct process_result {
  int exit_code = -1;  ///< the exit status; 128 + N when killed by signal N; -1 when it hung
  std::string out;
  std::string err;
};

/// `program ARGS...`, started with the default disposition for every signal. The destructor sends
/// SIGTERM (then SIGKILL if the child does not exit) and reaps it, so a failed test leaves no
/// process behind. Not thread-safe.
class child_process {
 public:
  child_process(const std::string& program, const std::vector<std::string>& args);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const { return pid_; }

  /// The next line of stdout without its '\n'; "" if stdout closes first or the guard expires.
  std::string read_stdout_line(std::chrono::milliseconds guard = default_hang_guard);

  /// Reads both pipes to their end, then reaps the child. A child still running after `guard`
  /// is killed and reported as hung (exit_code -1).
  process_result finish(std::chrono::milliseconds guard = default_hang_guard);

  void send(int signal_number) const;

 private:
  bool wait_for_exit(std::chrono::milliseconds limit);

  pid_t pid_ = -1;
  int status_ = 0;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
};

/// The port of a `listening on http://127.0.0.1:PORT` line (what serve and gateway print first);
/// 0 when the line is not one.
std::uint16_t announced_port(const std::string& line);

/// Runs `program ARGS...` to completion.
process_result run_process(const std::string& program, const std::vector<std::string>& args,
                           std::chrono::milliseconds guard = default_hang_guard);

#ifdef PROMPTPACK_BINARY
/// Runs the `promptpack` CLI built with the tests (PROMPTPACK_BINARY: the integration binary).
inline process_result run_promptpack(const std::vector<std::string>& args,
                                     std::chrono::milliseconds guard = default_hang_guard) {
  return run_process(PROMPTPACK_BINARY, args, guard);
}
#endif

}  // namespace promptpack::test
