// Sorts accept errors into those of one dropped connection and those that a retry would repeat.
#include "server/accept_backoff.hpp"

#include <boost/system/errc.hpp>

namespace promptpack::server {
namespace {

// Long enough for connections to close and give their descriptors back, short enough that a
// client waiting in the listen backlog barely notices.
constexpr std::chrono::milliseconds accept_pause{100};

// The failure used up one pending connection (aborted or reset by its peer before accept, or a
// network error Linux passes on from it, which accept(2) says to treat like EAGAIN), or the call
// was merely interrupted: the next accept has a fresh chance.
bool only_this_connection_failed(const boost::system::error_code& error) {
  namespace errc = boost::system::errc;
  return error == errc::connection_aborted || error == errc::connection_reset ||
         error == errc::protocol_error || error == errc::network_down ||
         error == errc::network_unreachable || error == errc::host_unreachable ||
         error == errc::no_protocol_option || error == errc::interrupted ||
         error == errc::operation_would_block || error == errc::resource_unavailable_try_again;
}

}  // namespace

std::optional<std::chrono::milliseconds> accept_backoff(const boost::system::error_code& error) {
  if (only_this_connection_failed(error)) return std::nullopt;
  return accept_pause;
}

}  // namespace promptpack::server
