// What a server does when one session's coroutine ends on an exception: report it, serve on.
#pragma once

#include <exception>

namespace promptpack::server {

/// The completion handler of a session's co_spawn. Sessions end on their own I/O errors; only
/// resource exhaustion throws, and then that one connection's failure is reported on stderr,
/// prefixed with `who` ("promptpack serve"), and the server goes on serving the others.
struct report_session_failure {
  const char* who;
  void operator()(std::exception_ptr failure) const;
};

}  // namespace promptpack::server
