// Text from outside (an endpoint's answer) made safe to print: no byte of it can drive a terminal.
#pragma once

#include <string>
#include <string_view>

namespace promptpack::detail {

/// `text` with every control character written out as an escape, so that printing it can neither
/// move the cursor, recolour or retitle a terminal (ANSI escapes) nor start a line that passes for
/// the program's own: \n, \r and \t as such; other C0 bytes and DEL as \xNN; C1 controls
/// (U+0080..U+009F, which some terminals obey) as \u00NN; bytes that are not UTF-8 as \xNN.
/// Everything else is kept, backslashes included, so escaping twice changes nothing.
std::string escape_for_terminal(std::string_view text);

}  // namespace promptpack::detail
