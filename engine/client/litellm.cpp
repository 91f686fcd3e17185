// The LiteLLM-compatible façade, built on client's bulk path.
#include <promptpack/litellm.hpp>

#include <promptpack/client.hpp>
#include <promptpack/protocol/request_writer.hpp>

#include <chrono>
#include <random>

namespace promptpack {
namespace {

int count_words(std::string_view text) {
  int words = 0;
  bool in_word = false;
  for (char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

std::string random_id(std::string_view prefix) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  static constexpr char hex[] = "0123456789abcdef";
  std::string id(prefix);
  for (int i = 0; i < 24; ++i) id.push_back(hex[rng() & 15]);
  return id;
}

client_config config_for(const completion_request& request, std::size_t connections) {
  if (request.api_base.empty()) {
    throw std::invalid_argument("api_base is empty; pass the endpoint's URL");
  }
  client_config config;
  config.endpoints = {{request.api_base, 1.0}};
  config.model = request.model;
  if (request.temperature) config.params.temperature = *request.temperature;
  if (request.max_tokens) config.params.max_tokens = *request.max_tokens;
  if (request.top_p) config.params.top_p = *request.top_p;
  if (request.top_k) config.params.top_k = *request.top_k;
  config.request_timeout_s = request.request_timeout_s;
  config.max_retries = request.max_retries;
  config.api_key = request.api_key;
  config.ca_file = request.ca_file;
  config.connections_per_endpoint = connections;
  config.threads = 1;
  return config;
}

}  // namespace

std::string join_messages(const std::vector<chat_message>& messages) {
  std::string prompt;
  for (const auto& m : messages) {
    if (!prompt.empty()) prompt.push_back(' ');
    prompt += m.content;
  }
  return prompt;
}

model_response model_response::from_outputs(std::string_view model, std::string_view prompt,
                                            const std::vector<std::string>& outputs,
                                            std::optional<int> max_tokens, bool chat) {
  model_response r;
  r.id = random_id(chat ? "chatcmpl-" : "cmpl-");
  r.object = chat ? "chat.completion" : "text_completion";
  r.created = std::chrono::duration_cast<std::chrono::seconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  r.model = std::string(strip_custom_prefix(model));
  r.usage.prompt_tokens = count_words(prompt);
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    choice choice;
    choice.index = static_cast<int>(i);
    choice.message.content = outputs[i];
    const int words = count_words(outputs[i]);
    choice.finish_reason = max_tokens && words >= *max_tokens ? "length" : "stop";
    r.usage.completion_tokens += words;
    r.choices.push_back(std::move(choice));
  }
  r.usage.total_tokens = r.usage.prompt_tokens + r.usage.completion_tokens;
  return r;
}

std::string model_response::to_json() const {
  const bool chat = object == "chat.completion";
  std::string out = "{\"id\":";
  append_json_string(out, id);
  out += ",\"object\":";
  append_json_string(out, object);
  out += ",\"created\":" + std::to_string(created) + ",\"model\":";
  append_json_string(out, model);
  out += ",\"choices\":[";
  for (std::size_t i = 0; i < choices.size(); ++i) {
    const auto& c = choices[i];
    if (i > 0) out.push_back(',');
    out += "{\"index\":" + std::to_string(c.index);
    if (chat) {
      out += ",\"message\":{\"role\":";
      append_json_string(out, c.message.role);
      out += ",\"content\":";
      append_json_string(out, c.message.content);
      out += "}";
    } else {
      out += ",\"text\":";
      append_json_string(out, c.message.content);
    }
    out += ",\"finish_reason\":";
    append_json_string(out, c.finish_reason);
    out += "}";
  }
  out += "],\"usage\":{\"prompt_tokens\":" + std::to_string(usage.prompt_tokens) +
         ",\"completion_tokens\":" + std::to_string(usage.completion_tokens) +
         ",\"total_tokens\":" + std::to_string(usage.total_tokens) + "}}";
  return out;
}

model_response completion(const completion_request& request) {
  promptpack::client client(config_for(request, 1));
  const std::string prompt = join_messages(request.messages);
  prompt_result result = client.complete(prompt, client.config().params);
  if (!result.ok()) throw completion_error(std::move(*result.error));
  return model_response::from_outputs(request.model, prompt, result.outputs, request.max_tokens);
}

std::vector<batch_completion_result> batch_completion(
    const completion_request& request,
    const std::vector<std::vector<chat_message>>& message_lists) {
  promptpack::client client(config_for(request, 4));
  std::vector<std::string> prompts;
  prompts.reserve(message_lists.size());
  for (const auto& messages : message_lists) prompts.push_back(join_messages(messages));
  const std::vector<std::string_view> views(prompts.begin(), prompts.end());
  auto completions = client.submit_bulk(views, client.group()).get();
  std::vector<batch_completion_result> results(completions.size());
  for (std::size_t i = 0; i < completions.size(); ++i) {
    if (completions[i].ok()) {
      results[i].response = model_response::from_outputs(
          request.model, prompts[i], completions[i].outputs, request.max_tokens);
    } else {
      results[i].error = std::move(completions[i].error);
    }
  }
  return results;
}

}  // namespace promptpack
