#include "kitty/http/ollama_translate.h"

#include <algorithm>
#include <chrono>

#include "kitty/config/value_parse.h"
#include "kitty/http/status_json.h"

namespace kitty::web {
namespace {

using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

std::string Now() {
  // Ollama's created_at has sub-second digits; clients read it as a string.
  const auto t = std::chrono::system_clock::now();
  std::string iso = IsoTime(t);  // ...Z
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count() % 1000000;
  char frac[16];
  snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(us));
  if (!iso.empty() && iso.back() == 'Z') iso.insert(iso.size() - 1, frac);
  return iso;
}

// The message of an error answer's "error" (an OpenAI object, or a plain string).
std::string ErrorMessage(const json& error) {
  if (error.is_object()) return error.value("message", error.dump());
  return error.is_string() ? error.get<std::string>() : error.dump();
}

int64_t Ns(SteadyClock::duration d) { return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(); }

// Ollama's options → OpenAI (and llama-server) sampling fields.
void MapOptions(const json& req, json& out) {
  const json options = req.contains("options") && req["options"].is_object() ? req["options"] : json::object();
  for (const auto& [from, to] : {std::pair{"temperature", "temperature"}, {"top_p", "top_p"}, {"top_k", "top_k"},
                                 {"min_p", "min_p"}, {"seed", "seed"}, {"repeat_penalty", "repeat_penalty"},
                                 {"presence_penalty", "presence_penalty"}, {"frequency_penalty", "frequency_penalty"}})
    if (options.contains(from) && options[from].is_number()) out[to] = options[from];
  if (options.contains("num_predict") && options["num_predict"].is_number_integer() &&
      options["num_predict"].get<int64_t>() > 0)
    out["max_tokens"] = options["num_predict"];
  if (options.contains("stop")) out["stop"] = options["stop"];
  if (req.contains("format")) {
    const json& f = req["format"];
    if (f.is_string() && f == "json") out["response_format"] = {{"type", "json_object"}};
    else if (f.is_object()) out["response_format"] = {{"type", "json_schema"}, {"json_schema", {{"name", "answer"}, {"schema", f}}}};
  }
}

// Ollama's tool calls (arguments an object, no id) → OpenAI's (arguments a JSON string, an id
// and a type), which llama-server's chat templates read.
json ToolCallsOut(const json& calls) {
  if (!calls.is_array()) return calls;
  json out = json::array();
  for (size_t i = 0; i < calls.size(); ++i) {
    json t = calls[i];
    if (t.is_object() && t.contains("function") && t["function"].is_object()) {
      json& f = t["function"];
      if (f.contains("arguments") && !f["arguments"].is_string()) f["arguments"] = f["arguments"].dump();
      f.erase("index");
      if (!t.contains("type")) t["type"] = "function";
      if (!t.contains("id")) t["id"] = "call_" + std::to_string(i);
    }
    out.push_back(std::move(t));
  }
  return out;
}

// An Ollama message → OpenAI's: images as content parts, tool calls as above, a tool answer's
// tool_name as its name.
json Message(const json& m) {
  json out = {{"role", m.contains("role") && m["role"].is_string() ? m["role"].get<std::string>() : "user"}};
  const json content = m.contains("content") ? m["content"] : json("");
  if (m.contains("images") && m["images"].is_array() && !m["images"].empty()) {
    json parts = json::array();
    if (content.is_string() && !content.get<std::string>().empty()) parts.push_back({{"type", "text"}, {"text", content}});
    for (const auto& img : m["images"])
      if (img.is_string())
        parts.push_back({{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64," + img.get<std::string>()}}}});
    out["content"] = parts;
  } else {
    out["content"] = content;
  }
  if (m.contains("tool_calls")) out["tool_calls"] = ToolCallsOut(m["tool_calls"]);
  for (const char* k : {"name", "tool_call_id"})
    if (m.contains(k)) out[k] = m[k];
  if (!out.contains("name") && m.contains("tool_name")) out["name"] = m["tool_name"];
  return out;
}

// A request's true/false field; absent or null is `fallback` (Ollama's *bool).
Result<bool> BoolField(const json& req, const char* key, bool fallback) {
  if (!req.contains(key) || req[key].is_null()) return fallback;
  if (!req[key].is_boolean()) return MakeError(std::string("\"") + key + "\" must be true or false", ErrorCode::kInvalidRequest);
  return req[key].get<bool>();
}

// The tool calls of an answer, joined from a stream's pieces: the first piece of a call has
// its id and name, the rest carry more of its arguments under the same index.
class ToolCalls {
 public:
  void add(const json& calls) {
    for (size_t i = 0; i < calls.size(); ++i) {
      const json& t = calls[i];
      if (!t.is_object()) continue;
      const int64_t index = t.contains("index") && t["index"].is_number_integer() ? t["index"].get<int64_t>()
                                                                                   : static_cast<int64_t>(calls_.size());
      auto it = std::find_if(calls_.begin(), calls_.end(), [&](const Call& c) { return c.index == index; });
      if (it == calls_.end()) it = calls_.insert(calls_.end(), Call{index, {}, {}});
      if (!t.contains("function") || !t["function"].is_object()) continue;
      const json& f = t["function"];
      if (f.contains("name") && f["name"].is_string()) it->name += f["name"].get<std::string>();
      if (f.contains("arguments") && f["arguments"].is_string()) it->arguments += f["arguments"].get<std::string>();
      else if (f.contains("arguments") && f["arguments"].is_object()) it->arguments = f["arguments"].dump();
    }
  }
  bool empty() const { return calls_.empty(); }
  // Ollama's shape: arguments an object (the JSON text where it does not parse).
  json ollama() const {
    json out = json::array();
    for (const auto& c : calls_) {
      json args = json::parse(c.arguments.empty() ? "{}" : c.arguments, nullptr, false);
      if (args.is_discarded()) args = c.arguments;
      out.push_back({{"function", {{"name", c.name}, {"arguments", args}}}});
    }
    return out;
  }

 private:
  struct Call {
    int64_t index;
    std::string name, arguments;
  };
  std::vector<Call> calls_;
};

class ChatAnswer : public BodyRewriter {
 public:
  ChatAnswer(OllamaCall call, std::string model, bool stream, SteadyClock::time_point started)
      : call_(call), model_(std::move(model)), stream_(stream), started_(started) {}

  std::string begin(int status, std::string_view content_type) override {
    ok_ = status / 100 == 2;
    sse_ = content_type.starts_with("text/event-stream");
    return stream_ && ok_ ? "application/x-ndjson" : "application/json; charset=utf-8";
  }

  std::string feed(std::string_view data) override {
    if (!ok_ || !sse_) {
      whole_.append(data);
      return {};
    }
    pending_.append(data);
    std::string out;
    size_t end;
    while ((end = pending_.find("\n\n")) != std::string::npos) {
      out += event(pending_.substr(0, end));
      pending_.erase(0, end + 2);
    }
    return out;
  }

  std::string finish(const Error* broke) override {
    if (!ok_) return error_line(whole_);
    if (!sse_) {
      auto j = json::parse(whole_, nullptr, false);
      if (!j.is_object()) return error_line("the worker's answer is not JSON");
      take(j, /*delta=*/false);
    } else if (!pending_.empty()) {
      std::string rest = event(pending_);
      pending_.clear();
      if (broke) return rest + error_line(broke->message);
      return rest + final_line();
    }
    if (broke) return error_line(broke->message);
    return final_line();
  }

 private:
  // One SSE event ("data: {...}"): its text as one NDJSON line when streaming.
  std::string event(std::string_view ev) {
    std::string payload;
    for (size_t at = 0; at < ev.size();) {
      size_t nl = ev.find('\n', at);
      if (nl == std::string_view::npos) nl = ev.size();
      std::string_view line = ev.substr(at, nl - at);
      if (line.starts_with("data:")) {
        line.remove_prefix(5);
        if (line.starts_with(" ")) line.remove_prefix(1);
        payload.append(line);
      }
      at = nl + 1;
    }
    if (payload.empty() || payload == "[DONE]") return {};
    auto j = json::parse(payload, nullptr, false);
    if (!j.is_object()) return {};
    if (j.contains("error")) {
      error_ = ErrorMessage(j["error"]);
      return {};
    }
    const std::string text = take(j, /*delta=*/true);
    // Tool-call pieces come together in the last line, as Ollama sends them.
    if (text.empty() || !stream_) return {};
    json line = base(false);
    if (call_ == OllamaCall::kChat) line["message"] = {{"role", "assistant"}, {"content", text}};
    else line["response"] = text;
    return line.dump() + "\n";
  }

  // The text, finish reason and usage of an OpenAI chunk (delta) or answer.
  std::string take(const json& j, bool delta) {
    std::string text;
    if (j.contains("choices") && j["choices"].is_array() && !j["choices"].empty()) {
      const json& c = j["choices"][0];
      if (c.contains("finish_reason") && c["finish_reason"].is_string()) finish_reason_ = c["finish_reason"];
      const char* key = delta ? "delta" : "message";
      if (c.contains(key) && c[key].is_object()) {
        const json& m = c[key];
        if (m.contains("content") && m["content"].is_string()) text = m["content"];
        if (m.contains("tool_calls") && m["tool_calls"].is_array()) tool_calls_.add(m["tool_calls"]);
      } else if (c.contains("text") && c["text"].is_string()) {
        text = c["text"];
      }
    }
    if (j.contains("usage") && j["usage"].is_object()) {
      const json& u = j["usage"];
      if (u.contains("prompt_tokens") && u["prompt_tokens"].is_number_integer()) prompt_tokens_ = u["prompt_tokens"];
      if (u.contains("completion_tokens") && u["completion_tokens"].is_number_integer()) completion_tokens_ = u["completion_tokens"];
    }
    if (!text.empty()) {
      if (!first_token_) first_token_ = SteadyClock::now();
      ++chunks_;
    }
    all_ += text;
    return text;
  }

  json base(bool done) const {
    return {{"model", model_}, {"created_at", Now()}, {"done", done}};
  }

  std::string final_line() {
    if (!error_.empty()) return error_line(error_);
    const auto end = SteadyClock::now();
    const auto first = first_token_.value_or(end);
    json line = base(true);
    // Streamed lines carried the text already; a worker that answered in one piece did not.
    const std::string text = stream_ && sse_ ? std::string() : all_;
    if (call_ == OllamaCall::kChat) {
      line["message"] = {{"role", "assistant"}, {"content", text}};
      if (!tool_calls_.empty()) line["message"]["tool_calls"] = tool_calls_.ollama();
    } else {
      line["response"] = text;
    }
    line["done_reason"] = finish_reason_ == "length" ? "length" : "stop";
    line["total_duration"] = Ns(end - started_);
    line["load_duration"] = 0;
    line["prompt_eval_count"] = prompt_tokens_;
    line["prompt_eval_duration"] = Ns(first - started_);
    line["eval_count"] = completion_tokens_ > 0 ? completion_tokens_ : chunks_;
    line["eval_duration"] = Ns(end - first);
    return line.dump() + (stream_ ? "\n" : "");
  }

  // Ollama's error shape: {"error": "message"}, a line of its own in a stream.
  std::string error_line(const std::string& body) const {
    std::string message = body;
    auto j = json::parse(body, nullptr, false);
    if (j.is_object() && j.contains("error")) message = ErrorMessage(j["error"]);
    return json{{"error", message}}.dump() + (stream_ ? "\n" : "");
  }

  const OllamaCall call_;
  const std::string model_;
  const bool stream_;
  const SteadyClock::time_point started_;
  bool ok_ = true, sse_ = false;
  std::string pending_, whole_, all_, finish_reason_, error_;
  ToolCalls tool_calls_;
  std::optional<SteadyClock::time_point> first_token_;
  int64_t prompt_tokens_ = 0, completion_tokens_ = 0, chunks_ = 0;
};

class EmbedAnswer : public BodyRewriter {
 public:
  EmbedAnswer(OllamaCall call, std::string model, SteadyClock::time_point started)
      : call_(call), model_(std::move(model)), started_(started) {}
  std::string begin(int status, std::string_view) override {
    ok_ = status / 100 == 2;
    return "application/json; charset=utf-8";
  }
  std::string feed(std::string_view data) override {
    whole_.append(data);
    return {};
  }
  std::string finish(const Error* broke) override {
    if (broke) return json{{"error", broke->message}}.dump();
    auto j = json::parse(whole_, nullptr, false);
    if (!ok_ || !j.is_object() || !j.contains("data") || !j["data"].is_array()) {
      std::string message = whole_;
      if (j.is_object() && j.contains("error")) message = ErrorMessage(j["error"]);
      return json{{"error", message}}.dump();
    }
    json vectors = json::array();
    for (const auto& d : j["data"])
      if (d.contains("embedding")) vectors.push_back(d["embedding"]);
    if (call_ == OllamaCall::kEmbeddings)
      return json{{"embedding", vectors.empty() ? json::array() : vectors[0]}}.dump();
    int64_t tokens = 0;
    if (j.contains("usage") && j["usage"].is_object()) tokens = j["usage"].value("prompt_tokens", int64_t{0});
    return json{{"model", model_},
                {"embeddings", vectors},
                {"total_duration", Ns(SteadyClock::now() - started_)},
                {"load_duration", 0},
                {"prompt_eval_count", tokens}}
        .dump();
  }

 private:
  const OllamaCall call_;
  const std::string model_;
  const SteadyClock::time_point started_;
  bool ok_ = true;
  std::string whole_;
};

}  // namespace

Result<OllamaRequest> TranslateOllama(OllamaCall call, const std::string& body) {
  auto req = json::parse(body, nullptr, false);
  if (!req.is_object()) return MakeError("the body is not a JSON object", ErrorCode::kInvalidJson);
  if (!req.contains("model") || !req["model"].is_string() || req["model"].get<std::string>().empty())
    return MakeError("\"model\" is required", ErrorCode::kMissingModel);
  OllamaRequest r;
  r.model = req["model"];
  if (req.contains("keep_alive") && !req["keep_alive"].is_null()) {
    const json& k = req["keep_alive"];
    Result<double> d = k.is_number() ? Result<double>(k.get<double>())
                       : k.is_string() ? ParseDuration(k.get<std::string>())
                                       : Result<double>(MakeError("expected a duration"));
    if (!d) return MakeError("keep_alive: " + d.error().message, ErrorCode::kInvalidRequest);
    r.keep_alive = *d;
  }
  auto stream = BoolField(req, "stream", true);
  if (!stream) return stream.error();
  r.stream = *stream;
  if (req.contains("options") && !req["options"].is_null() && !req["options"].is_object())
    return MakeError("\"options\" must be an object", ErrorCode::kInvalidRequest);
  json out = {{"model", r.model}};
  switch (call) {
    case OllamaCall::kChat: {
      if (req.contains("messages") && !req["messages"].is_null() && !req["messages"].is_array())
        return MakeError("\"messages\" must be an array", ErrorCode::kInvalidRequest);
      json messages = json::array();
      if (req.contains("messages") && req["messages"].is_array()) {
        for (const auto& m : req["messages"]) {
          if (!m.is_object()) return MakeError("each of \"messages\" must be an object", ErrorCode::kInvalidRequest);
          if (m.contains("role") && !m["role"].is_string())
            return MakeError("a message's \"role\" must be a string", ErrorCode::kInvalidRequest);
          messages.push_back(Message(m));
        }
      }
      if (messages.empty()) {
        r.load_only = true;  // Ollama loads (or with keep_alive 0 unloads) for an empty chat
        return r;
      }
      out["messages"] = messages;
      if (req.contains("tools")) out["tools"] = req["tools"];
      r.target = "/v1/chat/completions";
      break;
    }
    case OllamaCall::kGenerate: {
      const std::string prompt = req.contains("prompt") && req["prompt"].is_string() ? req["prompt"].get<std::string>() : "";
      if (prompt.empty() && !req.contains("images")) {
        r.load_only = true;
        return r;
      }
      auto raw = BoolField(req, "raw", false);
      if (!raw) return raw.error();
      if (*raw) {
        out["prompt"] = prompt;
        r.target = "/v1/completions";
      } else {
        json messages = json::array();
        if (req.contains("system") && req["system"].is_string()) messages.push_back({{"role", "system"}, {"content", req["system"]}});
        json user = {{"role", "user"}, {"content", prompt}};
        if (req.contains("images")) user["images"] = req["images"];
        messages.push_back(Message(user));
        out["messages"] = messages;
        r.target = "/v1/chat/completions";
      }
      break;
    }
    case OllamaCall::kEmbed:
    case OllamaCall::kEmbeddings: {
      const char* field = call == OllamaCall::kEmbed ? "input" : "prompt";
      if (!req.contains(field) || !(req[field].is_string() || req[field].is_array()))
        return MakeError(std::string("\"") + field + "\" must be a string" +
                             (call == OllamaCall::kEmbed ? " or an array of strings" : ""),
                         ErrorCode::kInvalidRequest);
      out["input"] = req[field];
      r.target = "/v1/embeddings";
      r.openai_body = out.dump();
      return r;
    }
  }
  MapOptions(req, out);
  out["stream"] = r.stream;
  if (r.stream) out["stream_options"] = {{"include_usage", true}};
  r.openai_body = out.dump();
  return r;
}

std::shared_ptr<BodyRewriter> OllamaAnswer(OllamaCall call, const std::string& model, bool stream,
                                           SteadyClock::time_point started) {
  if (call == OllamaCall::kEmbed || call == OllamaCall::kEmbeddings)
    return std::make_shared<EmbedAnswer>(call, model, started);
  return std::make_shared<ChatAnswer>(call, model, stream, started);
}

json OllamaLoadAnswer(OllamaCall call, const std::string& model, bool unload) {
  json j = {{"model", model}, {"created_at", Now()}, {"done", true}, {"done_reason", unload ? "unload" : "load"}};
  if (call == OllamaCall::kChat) j["message"] = {{"role", "assistant"}, {"content", ""}};
  else j["response"] = "";
  return j;
}

std::string WithoutKeepAlive(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("keep_alive")) return body;
  j.erase("keep_alive");
  return j.dump();
}

}  // namespace kitty::web
