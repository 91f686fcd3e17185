// `promptpack complete`: one LiteLLM-style completion, printed as an OpenAI chat.completion.
#include "commands.hpp"
#include "embedded_endpoint.hpp"

#include <promptpack/litellm.hpp>

#include <simdjson.h>

#include <cstdlib>
#include <iostream>
#include <memory>

namespace promptpack::cli {
namespace {

struct complete_options {
  std::string api_base;
  std::string model = "custom/promptpack-reference";
  std::string messages_json;
  std::string prompt;
  std::optional<int> max_tokens;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int> top_k;
  double request_timeout_s = 300;
  int retries = 3;
  std::string ca_file;
  std::string api_key;
};

// Reads [{"role": ..., "content": ...}, ...]; throws std::invalid_argument saying what is wrong.
std::vector<chat_message> parse_messages(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto error = parser.parse(json).get(root)) {
    throw std::invalid_argument(std::string("--messages is not valid JSON: ") +
                                simdjson::error_message(error));
  }
  simdjson::dom::array list;
  if (root.get_array().get(list)) {
    throw std::invalid_argument(
        "--messages must be a JSON list of {\"role\", \"content\"} objects");
  }
  std::vector<chat_message> messages;
  for (auto item : list) {
    std::string_view role = "user", content;
    if (item["content"].get_string().get(content)) {
      throw std::invalid_argument("every --messages entry needs a string \"content\"");
    }
    if (item["role"].get_string().get(role)) role = "user";  // optional, as in LiteLLM
    messages.push_back({std::string(role), std::string(content)});
  }
  return messages;
}

void run_complete(const complete_options& o, int& exit_status) {
  if (o.messages_json.empty() == o.prompt.empty()) {
    throw CLI::ValidationError("complete", "give either --messages JSON or a PROMPT (one of them)");
  }
  completion_request request;
  request.model = o.model;
  request.messages = o.prompt.empty() ? parse_messages(o.messages_json)
                                      : std::vector<chat_message>{{"user", o.prompt}};
  request.temperature = o.temperature;
  request.max_tokens = o.max_tokens;
  request.top_p = o.top_p;
  request.top_k = o.top_k;
  request.request_timeout_s = o.request_timeout_s;
  request.max_retries = o.retries;
  request.ca_file = o.ca_file;
  request.api_key = o.api_key;
  if (request.api_key.empty()) {
    if (const char* env = std::getenv("PROMPTPACK_API_KEY")) request.api_key = env;
  }
  embedded_endpoint embedded;
  request.api_base = o.api_base;
  if (request.api_base.empty()) {
    embedded = start_embedded_endpoint("complete", reference::generator_kind::text);
    request.api_base = embedded.api_base;
  }
  try {
    std::cout << completion(request).to_json() << std::endl;
    exit_status = exit_ok;
  } catch (const completion_error& e) {
    std::cerr << "promptpack complete: " << to_string(e.error().type) << " error: " << e.what()
              << "\n";
    exit_status = exit_some_failed;
  }
}

}  // namespace

void add_complete_command(CLI::App& root, int& exit_status) {
  auto o = std::make_shared<complete_options>();
  auto* cmd = root.add_subcommand(
      "complete", "Send one prompt (LiteLLM completion()) and print the answer as JSON");
  cmd->add_option("--api-base", o->api_base,
                  "endpoint URL; default: the embedded reference endpoint");
  cmd->add_option("--model", o->model, "model name, custom/NAME")->capture_default_str();
  cmd->add_option("--messages", o->messages_json,
                  "JSON list of {\"role\", \"content\"}; contents are joined with one space");
  cmd->add_option("prompt", o->prompt, "the prompt text (instead of --messages)");
  cmd->add_option("--max-tokens", o->max_tokens, "tokens to generate (default 32)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--temperature", o->temperature, "sampling temperature (default 0.7)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-p", o->top_p, "nucleus mass (default 1.0)")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--top-k", o->top_k, "candidates per step (default 40)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--request-timeout", o->request_timeout_s, "seconds for one exchange")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--retries", o->retries, "retries after the first attempt")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--ca-file", o->ca_file, "PEM bundle of CAs to trust for https")
      ->check(CLI::ExistingFile);
  cmd->add_option("--api-key", o->api_key, "sent as a Bearer token (or set PROMPTPACK_API_KEY)");
  cmd->callback([o, &exit_status] { run_complete(*o, exit_status); });
}

}  // namespace promptpack::cli
