// Finds the secret with a Boyer-Moore-Horspool table built once, and cuts and redacts around it.
#include "text/secret_redactor.hpp"

#include <algorithm>
#include <utility>

namespace promptpack::detail {

secret_redactor::secret_redactor(std::string secret)
    : secret_(std::move(secret)), searcher_(secret_.data(), secret_.data() + secret_.size()) {}

std::size_t secret_redactor::find(std::string_view text, std::size_t from) const {
  if (!active() || from > text.size()) return std::string_view::npos;
  const char* end = text.data() + text.size();
  const char* match = searcher_(text.data() + from, end).first;
  return match == end ? std::string_view::npos : static_cast<std::size_t>(match - text.data());
}

bool secret_redactor::found_in(std::string_view text) const {
  return find(text, 0) != std::string_view::npos;
}

std::string secret_redactor::redact(std::string_view text) const {
  std::string out;
  std::size_t from = 0;
  for (std::size_t at = find(text, 0); at != std::string_view::npos; at = find(text, from)) {
    out.append(text.substr(from, at - from)).append(marker);
    from = at + secret_.size();
  }
  out.append(text.substr(from));
  return out;
}

std::size_t secret_redactor::cut_point(std::string_view text, std::size_t max_bytes) const {
  if (text.size() <= max_bytes) return text.size();
  if (!active()) return max_bytes;
  // Only occurrences that start before max_bytes matter, and they all end inside this window;
  // searching it left to right finds them as redact() does.
  const std::string_view window = text.substr(0, max_bytes + secret_.size() - 1);
  std::size_t cut = max_bytes;
  for (std::size_t at = find(window, 0); at != std::string_view::npos;
       at = find(window, at + secret_.size())) {
    cut = std::max(cut, at + secret_.size());
  }
  return cut;
}

}  // namespace promptpack::detail
