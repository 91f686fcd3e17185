// Cut, redact, escape: in that order, so that the key is matched in the bytes as sent and the cut
// is made before escapes lengthen the text.
#include "text/endpoint_quote.hpp"

#include "text/terminal_text.hpp"

namespace promptpack::detail {

std::string quote_endpoint_text(std::string_view text, const secret_redactor& key,
                                std::size_t max_bytes) {
  const std::size_t cut = key.cut_point(text, max_bytes);
  std::string quoted = escape_for_terminal(key.redact(text.substr(0, cut)));
  if (cut < text.size()) quoted += "...";
  return quoted;
}

}  // namespace promptpack::detail
