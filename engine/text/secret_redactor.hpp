// Keeps a secret (the API key) out of text that an endpoint sent back: it becomes "[redacted]".
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace promptpack::detail {

/// Finds one secret in text and replaces it. Built once, with the search table precomputed, then
/// used from any number of threads (every member is const). An empty secret redacts nothing, and
/// then no member searches at all.
class secret_redactor {
 public:
  static constexpr std::string_view marker = "[redacted]";

  explicit secret_redactor(std::string secret);
  // The search table points into secret_, so the object stays where it was built.
  secret_redactor(const secret_redactor&) = delete;
  secret_redactor& operator=(const secret_redactor&) = delete;

  bool active() const noexcept { return !secret_.empty(); }
  /// True when `text` holds the secret.
  bool found_in(std::string_view text) const;
  /// `text` with every occurrence of the secret, left to right, replaced by the marker.
  std::string redact(std::string_view text) const;
  /// Where to cut `text` near `max_bytes` without splitting an occurrence of the secret (a split
  /// one would survive redaction in part): text.size() when that is no more than max_bytes, else
  /// max_bytes, or the end of the occurrence that spans it.
  std::size_t cut_point(std::string_view text, std::size_t max_bytes) const;

 private:
  /// The position of the first occurrence at or after `from`, or npos.
  std::size_t find(std::string_view text, std::size_t from) const;

  std::string secret_;
  std::boyer_moore_horspool_searcher<const char*> searcher_;
};

}  // namespace promptpack::detail
