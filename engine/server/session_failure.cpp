// Reports a session that ended on an exception, in one line on stderr.
#include "server/session_failure.hpp"

#include <cstdio>
#include <stdexcept>

namespace promptpack::server {

void report_session_failure::operator()(std::exception_ptr failure) const {
  if (!failure) return;
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: a connection ended on an internal error: %s\n", who, e.what());
  } catch (...) {
    std::fprintf(stderr, "%s: a connection ended on an unknown internal error\n", who);
  }
}

}  // namespace promptpack::server
