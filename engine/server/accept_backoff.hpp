// When a server's accept loop must pause after a failed accept, and for how long.
#pragma once

#include <boost/system/error_code.hpp>

#include <chrono>
#include <optional>

namespace promptpack::server {

/// How long to wait before accepting again after `accept` failed with `error`; nullopt to accept
/// again at once. Errors that belong to one dropped connection retry at once; every other error
/// (out of file descriptors or memory above all) would repeat on an immediate retry, so the loop
/// pauses instead of spinning.
std::optional<std::chrono::milliseconds> accept_backoff(const boost::system::error_code& error);

}  // namespace promptpack::server
