// Caps on the work one request can ask of the reference model: max_tokens and n.
#pragma once

#include "reference/reference_config.hpp"
#include "reference/text_generator.hpp"

#include <string>

namespace promptpack::reference {

/// True when `params` stays within `config`'s limits. Otherwise false, with `reason` set for a
/// 400 answer that names the limit and the serve flag that raises it.
bool within_generation_limits(const generation_params& params, const reference_config& config,
                              std::string& reason);

}  // namespace promptpack::reference
