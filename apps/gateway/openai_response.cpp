// Builds OpenAI responses with model_response::from_outputs, merging the choices of many prompts.
#include "gateway/openai_response.hpp"

#include <utility>

namespace promptpack::gateway {

model_response completion_response(completion_api api, std::string_view model,
                                   std::span<const std::string> prompts,
                                   std::span<const prompt_result> results, int max_tokens) {
  const bool chat = api == completion_api::chat;
  model_response response =
      model_response::from_outputs(model, prompts[0], results[0].outputs, max_tokens, chat);
  for (std::size_t i = 1; i < prompts.size(); ++i) {
    auto more =
        model_response::from_outputs(model, prompts[i], results[i].outputs, max_tokens, chat);
    for (auto& choice : more.choices) {
      choice.index = static_cast<int>(response.choices.size());
      response.choices.push_back(std::move(choice));
    }
    response.usage.prompt_tokens += more.usage.prompt_tokens;
    response.usage.completion_tokens += more.usage.completion_tokens;
    response.usage.total_tokens += more.usage.total_tokens;
  }
  return response;
}

}  // namespace promptpack::gateway
