// A parallel group of the prompts' async_complete and a readiness wait on the caller's socket,
// with a cancellation condition that tells a hang-up from a pipelined request.
#include "gateway/upstream_call.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/cancellation_condition.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace promptpack::gateway {
namespace {

namespace asio = boost::asio;
namespace experimental = asio::experimental;

// The caller's socket turned readable while its request waits: true when that is the end of
// the stream or an error (it hung up), false when bytes wait to be read (a pipelined request).
bool caller_hung_up(int socket_fd) {
  char byte = 0;
  ssize_t peeked = 0;
  do {
    peeked = ::recv(socket_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  } while (peeked < 0 && errno == EINTR);
  if (peeked > 0) return false;
  if (peeked == 0) return true;
  return errno != EAGAIN && errno != EWOULDBLOCK;  // a reset; EAGAIN was a spurious wake-up
}

// The group's cancellation condition. The prompts done: stop watching. The socket readable: a
// hang-up cancels the prompts; a pipelined request lets them run. The wait failed (the gateway
// closed the connection at the end of its grace period): cancel the prompts, nobody is there to
// answer.
struct hang_up_watch {
  int socket_fd;

  template <class Order, class Errors, class Results>
  asio::cancellation_type_t operator()(const Order&, const Errors&, const Results&) const {
    return asio::cancellation_type::terminal;
  }
  asio::cancellation_type_t operator()(const boost::system::error_code& wait_error) const {
    if (wait_error || caller_hung_up(socket_fd)) return asio::cancellation_type::terminal;
    return asio::cancellation_type::none;
  }
};

}  // namespace

asio::awaitable<call_outcome> complete_prompts(client& upstream,
                                               std::span<const std::string> prompts,
                                               const sampling_params& params,
                                               asio::ip::tcp::socket& caller,
                                               std::vector<prompt_result>& results) {
  // Every result must come back on this coroutine's strand, which is where the watch emits a
  // cancellation: the client clears a prompt's cancellation slot on the handler's executor, and
  // a clear racing an emit frees the prompt under the cancel. A ranged parallel group gives each
  // operation's handler the operation's own executor, the system executor for a deferred one,
  // so each is bound to the strand here (without that, a hang-up or the end of a grace period
  // met a prompt completing on another thread: a use-after-free under AddressSanitizer).
  const auto strand = co_await asio::this_coro::executor;
  auto on_strand = asio::bind_executor(strand, asio::deferred);  // not const: Asio 1.81 wants it so
  using prompt_completion = decltype(upstream.async_complete(std::string(), params, on_strand));
  std::vector<prompt_completion> completions;
  completions.reserve(prompts.size());
  for (const auto& prompt : prompts) {
    completions.push_back(upstream.async_complete(prompt, params, on_strand));
  }
  auto [order, completion_order, errors, answers, wait_error] =
      co_await experimental::make_parallel_group(
          experimental::make_parallel_group(std::move(completions))
              .async_wait(experimental::wait_for_all(), asio::deferred),
          caller.async_wait(asio::ip::tcp::socket::wait_read, asio::deferred))
          .async_wait(hang_up_watch{caller.native_handle()}, asio::use_awaitable);
  const bool cancelled = std::any_of(errors.begin(), errors.end(), [](const auto& error) {
    return error == asio::error::operation_aborted;
  });
  if (cancelled) co_return call_outcome::caller_gone;
  results = std::move(answers);
  co_return call_outcome::answered;
}

}  // namespace promptpack::gateway
