// One caller's prompts sent upstream and awaited, cancelled if the caller hangs up meanwhile.
#pragma once

#include <promptpack/client.hpp>
#include <promptpack/completion.hpp>
#include <promptpack/sampling_params.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <span>
#include <string>
#include <vector>

namespace promptpack::gateway {

enum class call_outcome {
  answered,     ///< every prompt has its result, an error or outputs
  caller_gone,  ///< the caller hung up (or the gateway closed its connection): prompts cancelled
};

/// Submits `prompts` to `upstream` with `params`, each with client::async_complete, so that they
/// join the batches of other callers with the same model and params, and waits for all of their
/// results (into `results`, in order). Meanwhile it watches `caller`, the connection the request
/// came on, from the calling coroutine's strand:
/// - the caller closes it (or resets it): every prompt is cancelled through its cancellation
///   slot, which drops it from its batch if that batch has not been sent yet;
/// - the caller sends more bytes (it pipelined its next request): it is still there, and the
///   watch ends; the request is then awaited to its end like any other.
boost::asio::awaitable<call_outcome> complete_prompts(client& upstream,
                                                      std::span<const std::string> prompts,
                                                      const sampling_params& params,
                                                      boost::asio::ip::tcp::socket& caller,
                                                      std::vector<prompt_result>& results);

}  // namespace promptpack::gateway
