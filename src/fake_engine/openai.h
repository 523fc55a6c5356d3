// The OpenAI-shaped request and response bodies fake_engine speaks (seed 000 §4.1, llama-server).
//
// Parsing never throws: a bad body comes back as nullopt with the message for a 400 answer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fake_engine/script.h"
#include "fake_engine/stream_format.h"

namespace kitty::fake {

/// A completion or chat request, reduced to what the fake model needs.
struct GenRequest {
  Api api = Api::kCompletion;
  std::string seed;  // the prompt, or the last user message of a chat
  std::optional<int> max_tokens;
  std::vector<std::string> stops;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  int prompt_tokens = 0;
};

/// Parses a /v1/completions (`prompt`) or /v1/chat/completions (`messages`) body.
std::optional<GenRequest> ParseGenRequest(Api api, std::string_view body, std::string* error);

/// Parses a /v1/embeddings body: `input` is a string or an array of strings.
std::optional<std::vector<std::string>> ParseEmbedInputs(std::string_view body, std::string* error);

/// The non-streamed answer: `text_completion` or `chat.completion` with usage.
std::string AnswerBody(Api api, std::string_view id, int64_t created, std::string_view model,
                       const Answer& answer, const Usage& usage);

/// `{"object":"list","data":[{"object":"embedding","index":i,"embedding":[…]}],"model":…,"usage":…}`.
std::string EmbeddingsBody(std::string_view model, const std::vector<std::string>& inputs);

/// `{"error":{"code":code,"message":message,"type":type}}`, OpenAI's and llama-server's shape.
std::string ErrorBody(int code, std::string_view message, std::string_view type);

}  // namespace kitty::fake
