// A LiteLLM-compatible façade: completion() and batch_completion() returning OpenAI-shaped answers.
#pragma once

#include <promptpack/client_config.hpp>
#include <promptpack/error.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace promptpack {

struct chat_message {
  std::string role = "user";
  std::string content;
};

/// The arguments of litellm.completion() that the custom protocol uses.
struct completion_request {
  std::string model;                   ///< `custom/NAME`
  std::vector<chat_message> messages;  ///< joined into one prompt with single spaces
  std::string api_base;                ///< the endpoint URL, http:// or https://
  std::optional<double> temperature;
  std::optional<int> max_tokens;
  std::optional<double> top_p;
  std::optional<int> top_k;
  double request_timeout_s = 300;  ///< LiteLLM's request_timeout
  int max_retries = 3;
  std::string api_key;  ///< sent as a Bearer token; never logged
  std::string ca_file;  ///< PEM bundle to trust for https
};

/// An OpenAI `chat.completion` (or `text_completion`) object.
struct model_response {
  struct choice {
    int index = 0;
    chat_message message{"assistant", ""};
    std::string finish_reason = "stop";  ///< "length" when the output used all of max_tokens
  };
  struct token_usage {
    int prompt_tokens = 0;  ///< whitespace-separated words: the protocol reports no tokens
    int completion_tokens = 0;
    int total_tokens = 0;
  };

  std::string id;                          ///< chatcmpl-<random hex>
  std::string object = "chat.completion";  ///< or "text_completion" (choices then carry "text")
  std::int64_t created = 0;                ///< Unix seconds
  std::string model;
  std::vector<choice> choices;  ///< one per output of the endpoint
  token_usage usage;

  /// Builds the response for `prompt` from the endpoint's outputs.
  static model_response from_outputs(std::string_view model, std::string_view prompt,
                                     const std::vector<std::string>& outputs,
                                     std::optional<int> max_tokens, bool chat = true);
  std::string to_json() const;
};

/// Thrown by completion() when the prompt fails; error() says how (type, message, status).
class completion_error : public std::runtime_error {
 public:
  explicit completion_error(prompt_error e) : std::runtime_error(e.message), error_(std::move(e)) {}
  const prompt_error& error() const noexcept { return error_; }

 private:
  prompt_error error_;
};

/// The joined prompt LiteLLM sends for `messages`: the contents joined with one space.
std::string join_messages(const std::vector<chat_message>& messages);

/// One request, blocking. Throws completion_error on failure and std::invalid_argument on a bad
/// request (no api_base, a malformed URL).
model_response completion(const completion_request& request);

/// The result of one message list in batch_completion(): a response or an error.
struct batch_completion_result {
  std::optional<model_response> response;
  std::optional<prompt_error> error;
};

/// Many message lists with the same settings (`request.messages` is ignored), packed into few
/// requests instead of LiteLLM's one request per prompt. Results are in input order.
std::vector<batch_completion_result> batch_completion(
    const completion_request& request, const std::vector<std::vector<chat_message>>& message_lists);

}  // namespace promptpack
