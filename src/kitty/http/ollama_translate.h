// Ollama's inference requests as OpenAI requests to a worker, and the worker's OpenAI answers as
// Ollama's (issue 11): /api/chat and /api/generate → /v1/chat/completions (or /v1/completions for
// a raw generate), /api/embed and /api/embeddings → /v1/embeddings. Options map onto the OpenAI
// and llama-server fields (num_predict → max_tokens, temperature, top_p, top_k, min_p, seed,
// stop, penalties); format "json" or a schema → response_format; images → image_url parts. The
// answers come back as Ollama writes them: NDJSON lines while streaming, one object when not,
// with done_reason, token counts and durations (nanoseconds) that Ollama clients read.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "kitty/base/result.h"
#include "kitty/http/proxy.h"

namespace kitty::web {

enum class OllamaCall { kChat, kGenerate, kEmbed, kEmbeddings };

struct OllamaRequest {
  std::string model;
  std::string target;       // the worker's route
  std::string openai_body;  // what the worker gets
  bool stream = false;
  bool load_only = false;   // a generate without a prompt: load (or unload) the model, no answer
  std::optional<double> keep_alive;  // seconds; negative: for ever
};

/// The OpenAI request for an Ollama one; 400-class errors name the field.
Result<OllamaRequest> TranslateOllama(OllamaCall call, const std::string& body);

/// Turns the worker's answer into Ollama's. `started` is when kittyd got the request.
std::shared_ptr<BodyRewriter> OllamaAnswer(OllamaCall call, const std::string& model, bool stream,
                                           std::chrono::steady_clock::time_point started);

/// An Ollama request body for an Ollama backend: as it came, without "keep_alive" (kittyd
/// applies it to the worker, and its agent holds the model in Ollama).
std::string WithoutKeepAlive(const std::string& body);

/// Ollama's body of a load or unload without a prompt ({"done": true, "done_reason": "load"}).
nlohmann::json OllamaLoadAnswer(OllamaCall call, const std::string& model, bool unload);

}  // namespace kitty::web
