// `promptpack complete`: one LiteLLM-style completion, printed as an OpenAI chat.completion.
#include "client_options.hpp"
#include "commands.hpp"
#include "embedded_endpoint.hpp"
#include "text/terminal_text.hpp"

#include <promptpack/client.hpp>
#include <promptpack/litellm.hpp>

#include <simdjson.h>

#include <iostream>
#include <memory>

namespace promptpack::cli {
namespace {

struct complete_options {
  client_options client;
  std::string messages_json;
  std::string prompt;
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

void run_complete(complete_options& o, int& exit_status) {
  if (o.messages_json.empty() == o.prompt.empty()) {
    throw CLI::ValidationError("complete", "give either --messages JSON or a PROMPT (one of them)");
  }
  const std::string prompt =
      o.prompt.empty() ? join_messages(parse_messages(o.messages_json)) : o.prompt;
  embedded_endpoint embedded;
  if (o.client.api_bases.empty()) {
    embedded = start_embedded_endpoint("complete", reference::generator_kind::text);
  }
  finish_client_options(o.client, "complete", embedded.api_base);
  promptpack::client client(std::move(o.client.config));
  prompt_result result = client.complete(prompt, client.config().params);
  if (!result.ok()) {
    // The engine escapes what it quotes of the endpoint; escaping again here keeps stderr safe
    // whatever a message holds, and changes nothing that is already escaped.
    std::cerr << "promptpack complete: " << to_string(result.error->type)
              << " error: " << detail::escape_for_terminal(result.error->message) << "\n";
    exit_status = exit_some_failed;
    return;
  }
  const auto& config = client.config();
  std::cout << model_response::from_outputs(config.model, prompt, result.outputs,
                                            config.params.max_tokens)
                   .to_json()
            << std::endl;
  exit_status = exit_ok;
}

}  // namespace

void add_complete_command(CLI::App& root, int& exit_status) {
  auto o = std::make_shared<complete_options>();
  auto& c = o->client.config;
  c.model = "custom/promptpack-reference";
  c.connections_per_endpoint = 1;  // one prompt needs one connection
  c.threads = 1;
  auto* cmd = root.add_subcommand(
      "complete", "Send one prompt (LiteLLM completion()) and print the answer as JSON");
  add_client_options(*cmd, o->client);
  cmd->add_option("--messages", o->messages_json,
                  "JSON list of {\"role\", \"content\"}; contents are joined with one space");
  cmd->add_option("prompt", o->prompt, "the prompt text (instead of --messages)");
  cmd->callback([o, &exit_status] { run_complete(*o, exit_status); });
}

}  // namespace promptpack::cli
