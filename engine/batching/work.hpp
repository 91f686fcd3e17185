// The units of work inside the engine: groups, submissions, prompts in flight and batches.
#pragma once

#include "retry/retry_policy.hpp"

#include <promptpack/client.hpp>
#include <promptpack/protocol/request_writer.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace promptpack::detail {

/// A (model, params) pair with its request writer. Prompts of one group may share a request.
struct request_group {
  request_group(std::string m, sampling_params p)
      : writer(m, p), model(std::move(m)), params(std::move(p)) {}

  request_writer writer;
  std::string model;
  sampling_params params;
};

/// Shared by the batches of a group; the public group_handle wraps one.
using group_ptr = std::shared_ptr<const request_group>;

/// One submit call: where its results go, and how many are still to come.
struct submission {
  submission(bulk_sink& s, std::size_t count, bool owned_by_engine = true)
      : sink(&s), remaining(count), engine_owned(owned_by_engine) {}
  bulk_sink* sink;
  std::atomic<std::size_t> remaining;
  /// The engine deletes it after on_complete(); otherwise it lives in its sink (async_complete).
  bool engine_owned;
  /// Set when nobody wants the results any more (a cancelled async_complete): its prompts are
  /// taken out of their batch before it is sent, so they cost the endpoint nothing.
  std::atomic<bool> abandoned{false};
  /// The caller vouched for its prompts (prompt_bytes::json_safe): copied into requests unescaped.
  bool json_safe = false;
};

/// One prompt in flight. The prompt's bytes belong to the caller until its result is delivered.
struct work_item {
  std::string_view prompt;
  submission* owner = nullptr;
  std::size_t index = 0;  ///< position in the owner's span
};

using clock = std::chrono::steady_clock;

/// Prompts of one group that travel in one request, and their shared history.
struct batch {
  group_ptr group;
  std::vector<work_item> items;
  std::size_t bytes = 0;           ///< estimated request body size
  attempt_budget budget;           ///< exchanges so far
  clock::time_point opened{};      ///< when the first item arrived (for max_delay_us)
  clock::time_point deadline{};    ///< the end of the total timeout of its oldest prompt
  clock::time_point not_before{};  ///< backoff: not sent before this

  void reset() {
    group.reset();
    items.clear();
    bytes = 0;
    budget = {};
  }
};

using batch_ptr = std::unique_ptr<batch>;

/// Moves the items of `from` past the first `keep` into `into`, which takes `from`'s group and
/// history too: the two halves of a split, or a batch cut down to an endpoint's limit.
inline void split_off(batch& from, std::size_t keep, batch& into) {
  into.group = from.group;
  into.budget = from.budget;
  into.opened = from.opened;
  into.deadline = from.deadline;
  into.bytes = from.bytes;  // an over-estimate is harmless: it only caps future merging
  into.items.assign(from.items.begin() + static_cast<std::ptrdiff_t>(keep), from.items.end());
  from.items.resize(keep);
}

}  // namespace promptpack::detail
