// SIGINT and SIGTERM as a request to stop: the first asks politely, the second ends the process.
#pragma once

namespace promptpack::cli {

/// Process-wide. After install(), the first SIGINT or SIGTERM sets a flag that long-running
/// commands poll to wind down in order; a second one ends the process at once with 128 + its
/// number (the shell's convention), for a user who will not wait.
class stop_signal {
 public:
  static void install();
  static bool requested() noexcept;
  /// The first signal received, 0 before any.
  static int number() noexcept;
  /// 128 + number(): 130 for SIGINT, 143 for SIGTERM.
  static int exit_status() noexcept { return 128 + number(); }
};

}  // namespace promptpack::cli
