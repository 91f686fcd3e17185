// Outputs in which an endpoint echoed the API key, swapped for redacted copies before delivery.
#pragma once

#include "text/secret_redactor.hpp"

#include <promptpack/completion.hpp>

#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace promptpack::detail {

/// Owns the redacted copies that delivered results point at. One per I/O thread, reused, so that
/// nothing is allocated unless an output holds the key.
class redacted_outputs {
 public:
  /// Points every result of `results` whose outputs hold the key at copies with the key redacted.
  /// The copies stay valid until the next call.
  void redact(std::span<bulk_result> results, const secret_redactor& key);

 private:
  // Deques: adding to them never moves what earlier results already point at.
  std::deque<std::string> texts_;
  std::deque<std::vector<std::string_view>> output_lists_;
};

}  // namespace promptpack::detail
