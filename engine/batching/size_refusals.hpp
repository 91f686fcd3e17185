// The batch sizes an endpoint answered 413 to, told apart from refusals of one oversized prompt.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace promptpack::detail {

/// A 413 says "too large", but not whether the batch had too many prompts or held one prompt too
/// long for the endpoint. Bisecting a batch around one long prompt gets a 413 at every size down
/// to 1; taking each as a limit on the count would leave the endpoint at one prompt per request.
/// So a refusal counts as a limit only while no batch at least as large was answered: a size that
/// was answered cannot be too many prompts. Pure; not thread-safe.
class size_refusals {
 public:
  /// A batch of `size` prompts was refused with 413. Returns true when it counts as a limit
  /// (nothing as large was answered yet); a single prompt never does.
  bool refused(std::size_t size) {
    if (size <= 1 || size <= largest_answered_) return false;
    if (std::find(refused_.begin(), refused_.end(), size) == refused_.end()) {
      refused_.push_back(size);
    }
    return true;
  }

  /// A batch of `size` prompts was answered: refusals of that size or smaller were about their
  /// prompts, not their count (the 413 came first, from a batch dealt out at the same time).
  void answered(std::size_t size) {
    if (size <= largest_answered_) return;
    largest_answered_ = size;
    std::erase_if(refused_, [&](std::size_t r) { return r <= largest_answered_; });
  }

  /// The smallest size that counts as refused; 0: none.
  std::size_t smallest() const {
    return refused_.empty() ? 0 : *std::min_element(refused_.begin(), refused_.end());
  }

 private:
  std::size_t largest_answered_ = 0;
  std::vector<std::size_t> refused_;  // a handful at most: each is above every answered size
};

}  // namespace promptpack::detail
