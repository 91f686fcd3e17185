// What a prompt ends with: its outputs or a prompt_error; and the bulk interface that avoids
// copies.
#pragma once

#include <promptpack/error.hpp>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace promptpack {

/// The owned result of one prompt.
struct prompt_result {
  std::vector<std::string> outputs;   ///< every output the endpoint gave, in order
  std::optional<prompt_error> error;  ///< set when the prompt failed; outputs is then empty

  bool ok() const noexcept { return !error.has_value(); }
};

/// What the engine may assume about the bytes of bulk prompts.
enum class prompt_bytes : unsigned char {
  /// Anything: each prompt is checked for UTF-8 and escaped for JSON as its request is written,
  /// and one that is not UTF-8 fails alone with invalid_input.
  any,
  /// Vouched for by the caller: valid UTF-8 with no '"', no '\\' and no byte below 0x20, so each
  /// prompt is copied into the request as it is (the text a JSON string holds between its quotes
  /// when it has no escapes). A caller that knows this already (a parser that found no escape)
  /// spares the engine its pass over every byte. A false promise makes a request the endpoint
  /// cannot read, which fails every prompt sharing it, other callers' too.
  json_safe,
};

/// One prompt's result as seen by a bulk sink. The views are valid only during the callback.
struct bulk_result {
  std::size_t index = 0;                      ///< position in the submitted span
  std::span<const std::string_view> outputs;  ///< empty when error != nullptr
  const prompt_error* error = nullptr;        ///< null on success
  /// Every output is valid UTF-8 with no '"', no '\\' and no byte below 0x20 (the answer had no
  /// escape): each may be copied between quotes into JSON as it is, as prompt_bytes::json_safe
  /// says of prompts. False promises nothing.
  bool outputs_json_safe = false;
};

/// Receives the results of one submit_bulk() call. Implemented by the caller.
/// on_results() runs on the client's I/O threads, possibly on several at once for different
/// exchanges; each index is delivered exactly once. on_complete() runs once, after the last
/// on_results() call has returned; the sink may be destroyed from then on.
class bulk_sink {
 public:
  virtual void on_results(std::span<const bulk_result> results) = 0;
  virtual void on_complete() = 0;

 protected:
  ~bulk_sink() = default;
};

/// Copies a bulk result into an owned prompt_result.
prompt_result to_completion(const bulk_result& result);

}  // namespace promptpack
