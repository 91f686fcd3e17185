// Whether a text holds a part: the check tests make on messages, outputs and files.
#pragma once

#include <string_view>

namespace promptpack::test {

inline bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

}  // namespace promptpack::test
