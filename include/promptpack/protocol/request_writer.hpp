// Low-level API: encodes the JSON body of one batched request (docs/protocol.md) into a reused
// buffer. The engine uses it; so may a tool that speaks the protocol without the client.
#pragma once

#include <promptpack/protocol/json_text.hpp>
#include <promptpack/sampling_params.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace promptpack {

/// `custom/meta-llama/x` -> `meta-llama/x`; any other name is returned unchanged.
std::string_view strip_custom_prefix(std::string_view model) noexcept;

/// Writes request bodies for one (model, params) group:
///   {"model":M,"params":{"prompt":[P1,P2,...],"max_tokens":..,"temperature":..,"top_p":..,
///    "top_k":..,<extra params verbatim>}}
/// The fixed head and tail are rendered once at construction, so each batch costs only the
/// escaping of its prompts. Immutable after construction: safe to share between threads.
class request_writer {
 public:
  /// Throws std::invalid_argument when an extra parameter is not valid JSON, repeats a name, or
  /// names one of prompt/max_tokens/temperature/top_p/top_k (those have their own fields).
  request_writer(std::string_view model, const sampling_params& params);

  /// Clears `out` (keeping its storage) and appends the head, up to the prompt array's `[`.
  void begin(write_buffer& out) const;
  /// Appends one prompt to the array; `first` says whether it opens the array. Returns false,
  /// leaving `out` as it was, when the prompt is not valid UTF-8 (checked while it is escaped).
  [[nodiscard]] static bool add_prompt(write_buffer& out, std::string_view prompt, bool first);
  /// add_prompt() for each of `prompts`, known to be JSON-safe (prompt_bytes::json_safe): copied
  /// in quotes as they are, with no check, into room taken once for all of them. `first` says
  /// whether the first of them opens the array.
  static void add_json_safe_prompts(write_buffer& out, std::span<const std::string_view> prompts,
                                    bool first);
  /// Closes the array and appends the parameters.
  void end(write_buffer& out) const;

  /// Bytes of an empty batch (head + tail), for max_batch_bytes accounting.
  std::size_t fixed_bytes() const noexcept { return head_.size() + tail_.size(); }
  /// Identifies the (model, params) group: equal keys may share a request.
  const std::string& group_key() const noexcept { return tail_with_model_; }

 private:
  std::string head_;             // {"model":"...","params":{"prompt":[
  std::string tail_;             // ],"max_tokens":...}}
  std::string tail_with_model_;  // model + tail, the grouping identity
};

}  // namespace promptpack
