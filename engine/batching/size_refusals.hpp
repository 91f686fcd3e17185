// The batch sizes an endpoint answered 413 to, told apart from refusals of one oversized prompt.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace promptpack::detail {

/// A 413 says "too large", but not whether the batch had too many prompts or held one prompt too
/// long for the endpoint. Bisecting a batch around one long prompt gets a 413 at every size down
/// to 1; taking each as a limit on the count would leave the endpoint at one prompt per request.
/// So a refusal at a size the endpoint has answered is taken for a long prompt, not a count:
/// while the latest answer was at least as large (the refused batch's sibling, or the batches
/// around it, went through), always; otherwise only twice in a row, and the third such refusal
/// counts (the prompts got longer, or the endpoint lowered its limit). Pure; not thread-safe.
class size_refusals {
 public:
  /// A batch of `size` prompts was refused with 413. Returns true when it counts as a limit on
  /// the count; a single prompt never does.
  bool refused(std::size_t size) {
    if (size <= 1) return false;
    if (size <= largest_answered_) {
      if (latest_answered_ >= size) {
        doubts_ = 0;
        return false;
      }
      if (++doubts_ < doubts_before_believing) return false;
      largest_answered_ = size - 1;  // the old evidence no longer holds
    }
    doubts_ = 0;
    if (std::find(refused_.begin(), refused_.end(), size) == refused_.end()) {
      refused_.push_back(size);
    }
    return true;
  }

  /// A batch of `size` prompts was answered: refusals of that size or smaller were about their
  /// prompts, not their count (the 413 came first, from a batch dealt out at the same time).
  void answered(std::size_t size) {
    latest_answered_ = size;
    if (size <= largest_answered_) return;
    largest_answered_ = size;
    std::erase_if(refused_, [&](std::size_t r) { return r <= largest_answered_; });
  }

  /// The smallest size that counts as refused; 0: none.
  std::size_t smallest() const {
    return refused_.empty() ? 0 : *std::min_element(refused_.begin(), refused_.end());
  }

 private:
  static constexpr int doubts_before_believing = 3;

  std::size_t largest_answered_ = 0;
  std::size_t latest_answered_ = 0;
  int doubts_ = 0;  // refusals in a row at answered sizes, each larger than the latest answer
  std::vector<std::size_t> refused_;  // a handful at most: each is above every answered size
};

}  // namespace promptpack::detail
