// A finished request's answers as one OpenAI chat.completion or text_completion object.
#pragma once

#include "gateway/openai_request.hpp"

#include <promptpack/completion.hpp>
#include <promptpack/litellm.hpp>

#include <span>
#include <string>
#include <string_view>

namespace promptpack::gateway {

/// The response to `prompts`, every one of which succeeded with `results` (in the same order):
/// one choice per output, numbered across the prompts (prompt i's outputs follow prompt i-1's,
/// as OpenAI numbers a list of prompts with n > 1), with usage summed over the prompts.
model_response completion_response(completion_api api, std::string_view model,
                                   std::span<const std::string> prompts,
                                   std::span<const prompt_result> results, int max_tokens);

}  // namespace promptpack::gateway
