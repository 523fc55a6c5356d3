#include "fake_engine/openai.h"

#include <nlohmann/json.hpp>

namespace kitty::fake {
namespace {

using nlohmann::json;

// Text of a chat message's content: a string, or an array of parts of which the text ones count.
std::string ContentText(const json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string text;
  if (!content.is_array()) return text;
  for (const json& part : content) {
    if (part.is_object() && part.value("type", "") == "text" && part.contains("text") &&
        part["text"].is_string()) {
      text += part["text"].get<std::string>();
    }
  }
  return text;
}

std::optional<json> ParseObject(std::string_view body, std::string* error) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    *error = "Invalid JSON in request body";
    return std::nullopt;
  }
  if (!j.is_object()) {
    *error = "Request body must be a JSON object";
    return std::nullopt;
  }
  return j;
}

bool ParseCommon(const json& j, GenRequest* r, std::string* error) {
  if (auto it = j.find("max_tokens"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer()) {
      *error = "\"max_tokens\" must be an integer";
      return false;
    }
    r->max_tokens = it->get<int>();
  }
  if (auto it = j.find("stop"); it != j.end() && !it->is_null()) {
    if (it->is_string()) {
      r->stops.push_back(it->get<std::string>());
    } else if (it->is_array()) {
      for (const json& s : *it) {
        if (!s.is_string()) {
          *error = "\"stop\" must be a string or an array of strings";
          return false;
        }
        r->stops.push_back(s.get<std::string>());
      }
    } else {
      *error = "\"stop\" must be a string or an array of strings";
      return false;
    }
  }
  if (auto it = j.find("stream"); it != j.end() && !it->is_null()) {
    if (!it->is_boolean()) {
      *error = "\"stream\" must be a boolean";
      return false;
    }
    r->stream = it->get<bool>();
  }
  if (auto it = j.find("stream_options"); it != j.end() && it->is_object()) {
    auto u = it->find("include_usage");
    r->include_usage = u != it->end() && u->is_boolean() && u->get<bool>();
  }
  return true;
}

std::optional<GenRequest> ParseGenRequestImpl(Api api, std::string_view body, std::string* error) {
  std::optional<json> j = ParseObject(body, error);
  if (!j) return std::nullopt;
  GenRequest r;
  r.api = api;
  if (!ParseCommon(*j, &r, error)) return std::nullopt;
  if (api == Api::kCompletion) {
    auto it = j->find("prompt");
    if (it == j->end() || it->is_null()) {
      *error = "\"prompt\" is required";
      return std::nullopt;
    }
    if (it->is_string()) {
      r.seed = it->get<std::string>();
    } else if (it->is_array() && !it->empty() && (*it)[0].is_string()) {
      r.seed = (*it)[0].get<std::string>();  // a batch: the fake answers the first prompt
    } else {
      r.seed = it->dump();  // token ids: echo them as JSON text
    }
  } else {
    auto it = j->find("messages");
    if (it == j->end() || !it->is_array() || it->empty()) {
      *error = "\"messages\" must be a non-empty array";
      return std::nullopt;
    }
    for (const json& m : *it) {
      if (!m.is_object()) {
        *error = "each message must be an object";
        return std::nullopt;
      }
      if (m.value("role", "") == "user" && m.contains("content")) r.seed = ContentText(m["content"]);
    }
  }
  r.prompt_tokens = CountTokens(r.seed);
  return r;
}

std::optional<std::vector<std::string>> ParseEmbedInputsImpl(std::string_view body,
                                                             std::string* error) {
  std::optional<json> j = ParseObject(body, error);
  if (!j) return std::nullopt;
  auto it = j->find("input");
  if (it == j->end() || it->is_null()) {
    *error = "\"input\" is required";
    return std::nullopt;
  }
  std::vector<std::string> inputs;
  if (it->is_string()) {
    inputs.push_back(it->get<std::string>());
  } else if (it->is_array() && !it->empty() && (*it)[0].is_string()) {
    for (const json& s : *it) {
      if (!s.is_string()) {
        *error = "\"input\" must be a string or an array of strings";
        return std::nullopt;
      }
      inputs.push_back(s.get<std::string>());
    }
  } else {
    inputs.push_back(it->dump());  // token ids: embed their JSON text
  }
  return inputs;
}

}  // namespace

// Fields of an unexpected type make nlohmann::json throw; that is the client's error, a 400.
std::optional<GenRequest> ParseGenRequest(Api api, std::string_view body, std::string* error) {
  try {
    return ParseGenRequestImpl(api, body, error);
  } catch (const nlohmann::json::exception& e) {
    *error = e.what();
    return std::nullopt;
  }
}

std::optional<std::vector<std::string>> ParseEmbedInputs(std::string_view body, std::string* error) {
  try {
    return ParseEmbedInputsImpl(body, error);
  } catch (const nlohmann::json::exception& e) {
    *error = e.what();
    return std::nullopt;
  }
}

std::string AnswerBody(Api api, std::string_view id, int64_t created, std::string_view model,
                       const Answer& answer, const Usage& usage) {
  json choice = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", answer.finish_reason}};
  if (api == Api::kChat) {
    choice["message"] = {{"role", "assistant"}, {"content", answer.Text()}};
  } else {
    choice["text"] = answer.Text();
  }
  json body = {
      {"id", id},
      {"object", api == Api::kChat ? "chat.completion" : "text_completion"},
      {"created", created},
      {"model", model},
      {"choices", json::array({std::move(choice)})},
      {"usage",
       {{"prompt_tokens", usage.prompt_tokens},
        {"completion_tokens", usage.completion_tokens},
        {"total_tokens", usage.prompt_tokens + usage.completion_tokens}}},
  };
  return body.dump();
}

std::string EmbeddingsBody(std::string_view model, const std::vector<std::string>& inputs) {
  json data = json::array();
  int tokens = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", Embed(inputs[i])}});
    tokens += CountTokens(inputs[i]);
  }
  json body = {{"object", "list"},
               {"data", std::move(data)},
               {"model", model},
               {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
  return body.dump();
}

std::string ErrorBody(int code, std::string_view message, std::string_view type) {
  return json{{"error", {{"code", code}, {"message", message}, {"type", type}}}}.dump();
}

}  // namespace kitty::fake
