#include "kitty/http/ollama_translate.h"

#include <gtest/gtest.h>

namespace kitty::web {
namespace {

using json = nlohmann::json;

std::vector<json> Lines(const std::string& ndjson) {
  std::vector<json> out;
  size_t at = 0, nl;
  while ((nl = ndjson.find('\n', at)) != std::string::npos) {
    out.push_back(json::parse(ndjson.substr(at, nl - at)));
    at = nl + 1;
  }
  return out;
}

TEST(OllamaTranslateTest, ChatBecomesAnOpenAiRequestWithItsOptions) {
  auto r = TranslateOllama(OllamaCall::kChat, R"({"model": "m", "keep_alive": "5m", "format": "json",
      "messages": [{"role": "user", "content": "look", "images": ["QUJD"]}],
      "options": {"num_predict": 7, "temperature": 0.2, "stop": ["x"], "seed": 3, "num_ctx": 99}})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->target, "/v1/chat/completions");
  EXPECT_TRUE(r->stream) << "Ollama streams unless told not to";
  EXPECT_EQ(r->keep_alive, 300);
  const json b = json::parse(r->openai_body);
  EXPECT_EQ(b["max_tokens"], 7);
  EXPECT_EQ(b["temperature"], 0.2);
  EXPECT_EQ(b["stop"], json::array({"x"}));
  EXPECT_EQ(b["seed"], 3);
  EXPECT_FALSE(b.contains("num_ctx"));
  EXPECT_EQ(b["response_format"]["type"], "json_object");
  EXPECT_EQ(b["stream_options"]["include_usage"], true);
  EXPECT_EQ(b["messages"][0]["content"][1]["image_url"]["url"], "data:image/png;base64,QUJD");
}

TEST(OllamaTranslateTest, GenerateWithoutAPromptOnlyLoadsAndRawGoesToCompletions) {
  auto load = TranslateOllama(OllamaCall::kGenerate, R"({"model": "m", "keep_alive": 0})");
  ASSERT_TRUE(load.ok());
  EXPECT_TRUE(load->load_only);
  EXPECT_EQ(load->keep_alive, 0);
  auto raw = TranslateOllama(OllamaCall::kGenerate, R"({"model": "m", "prompt": "p", "raw": true, "stream": false})");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->target, "/v1/completions");
  EXPECT_EQ(json::parse(raw->openai_body)["prompt"], "p");
  auto sys = TranslateOllama(OllamaCall::kGenerate, R"({"model": "m", "prompt": "p", "system": "s"})");
  EXPECT_EQ(json::parse(sys->openai_body)["messages"][0]["role"], "system");
}

TEST(OllamaTranslateTest, BadRequestsNameTheField) {
  EXPECT_EQ(TranslateOllama(OllamaCall::kChat, "[]").error().code, ErrorCode::kInvalidJson);
  EXPECT_EQ(TranslateOllama(OllamaCall::kChat, R"({"messages": []})").error().code, ErrorCode::kMissingModel);
  auto ka = TranslateOllama(OllamaCall::kChat, R"({"model": "m", "keep_alive": "soon"})");
  ASSERT_FALSE(ka.ok());
  EXPECT_NE(ka.error().message.find("keep_alive"), std::string::npos);
  EXPECT_FALSE(TranslateOllama(OllamaCall::kEmbed, R"({"model": "m"})").ok());
}

TEST(OllamaTranslateTest, AStreamedAnswerBecomesNdjsonWithAFinalLine) {
  auto rw = OllamaAnswer(OllamaCall::kChat, "m", true, std::chrono::steady_clock::now());
  EXPECT_EQ(rw->begin(200, "text/event-stream"), "application/x-ndjson");
  std::string out = rw->feed("data: {\"choices\":[{\"delta\":{\"content\":\"he\"}}]}\n\ndata: {\"choi");
  out += rw->feed("ces\":[{\"delta\":{\"content\":\"llo\"},\"finish_reason\":\"length\"}]}\n\n");
  out += rw->feed("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n");
  out += rw->finish(nullptr);
  auto lines = Lines(out);
  ASSERT_EQ(lines.size(), 3u) << out;
  EXPECT_EQ(lines[0]["message"]["content"], "he");
  EXPECT_EQ(lines[1]["message"]["content"], "llo");
  EXPECT_EQ(lines[2]["done"], true);
  EXPECT_EQ(lines[2]["done_reason"], "length");
  EXPECT_EQ(lines[2]["prompt_eval_count"], 4);
  EXPECT_EQ(lines[2]["eval_count"], 2);
  EXPECT_GT(lines[2]["total_duration"].get<int64_t>(), 0);
}

TEST(OllamaTranslateTest, AWholeAnswerAnErrorAndABrokenStream) {
  auto whole = OllamaAnswer(OllamaCall::kGenerate, "m", false, std::chrono::steady_clock::now());
  whole->begin(200, "application/json");
  whole->feed(R"({"choices":[{"message":{"content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1}})");
  const json j = json::parse(whole->finish(nullptr));
  EXPECT_EQ(j["response"], "hi");
  EXPECT_EQ(j["done_reason"], "stop");

  auto err = OllamaAnswer(OllamaCall::kChat, "m", false, std::chrono::steady_clock::now());
  err->begin(400, "application/json");
  err->feed(R"({"error":{"message":"bad messages","type":"invalid_request_error"}})");
  EXPECT_EQ(json::parse(err->finish(nullptr))["error"], "bad messages");

  auto broken = OllamaAnswer(OllamaCall::kChat, "m", true, std::chrono::steady_clock::now());
  broken->begin(200, "text/event-stream");
  std::string out = broken->feed("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n");
  const Error e = MakeError("worker crashed", ErrorCode::kWorkerCrashed);
  out += broken->finish(&e);
  auto lines = Lines(out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1]["error"], "worker crashed");

  auto emb = OllamaAnswer(OllamaCall::kEmbed, "m", false, std::chrono::steady_clock::now());
  emb->begin(200, "application/json");
  emb->feed(R"({"data":[{"embedding":[1,2]},{"embedding":[3,4]}],"usage":{"prompt_tokens":2}})");
  const json ej = json::parse(emb->finish(nullptr));
  EXPECT_EQ(ej["embeddings"], json::parse("[[1,2],[3,4]]"));
  EXPECT_EQ(ej["prompt_eval_count"], 2);
}

TEST(OllamaTranslateTest, WrongTypesAreRefusedNamingTheField) {
  // Ollama's *bool: null is the default; anything but true/false is the client's mistake.
  auto null_stream = TranslateOllama(OllamaCall::kChat, R"({"model": "m", "stream": null, "messages": [{"role": "user", "content": "x"}]})");
  ASSERT_TRUE(null_stream.ok()) << null_stream.error().message;
  EXPECT_TRUE(null_stream->stream);
  for (const char* body : {R"({"model": "m", "stream": "yes", "messages": [{"role": "user", "content": "x"}]})",
                           R"({"model": "m", "prompt": "p", "raw": 1})",
                           R"({"model": "m", "messages": [{"role": 3, "content": "x"}]})",
                           R"({"model": "m", "messages": ["x"]})",
                           R"({"model": "m", "prompt": "p", "options": [1]})"}) {
    const bool generate = std::string_view(body).find("\"prompt\"") != std::string_view::npos;
    auto r = TranslateOllama(generate ? OllamaCall::kGenerate : OllamaCall::kChat, body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidRequest) << body;
  }
  EXPECT_NE(TranslateOllama(OllamaCall::kChat, R"({"model": "m", "stream": 1})").error().message.find("\"stream\""),
            std::string::npos);
}

TEST(OllamaTranslateTest, ToolCallsBothWays) {
  // Ollama's history (arguments an object, no id) → OpenAI's (a JSON string, an id, a type).
  auto r = TranslateOllama(OllamaCall::kChat, R"({"model": "m", "stream": false,
      "tools": [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}],
      "messages": [{"role": "user", "content": "weather?"},
                   {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "weather", "arguments": {"city": "Oslo"}}}]},
                   {"role": "tool", "content": "cold", "tool_name": "weather"}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const json b = json::parse(r->openai_body);
  EXPECT_EQ(b["tools"][0]["function"]["name"], "weather");
  const json& call = b["messages"][1]["tool_calls"][0];
  EXPECT_EQ(call["type"], "function");
  EXPECT_EQ(call["id"], "call_0");
  EXPECT_EQ(call["function"]["arguments"], R"({"city":"Oslo"})");
  EXPECT_EQ(b["messages"][2]["name"], "weather");

  // A streamed answer's call comes in pieces under one index; Ollama gets it whole, once.
  auto rw = OllamaAnswer(OllamaCall::kChat, "m", true, std::chrono::steady_clock::now());
  rw->begin(200, "text/event-stream");
  std::string out = rw->feed(
      R"(data: {"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"weather","arguments":""}}]}}]})"
      "\n\n"
      R"(data: {"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}]})"
      "\n\n"
      R"(data: {"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Oslo\"}"}}]},"finish_reason":"tool_calls"}]})"
      "\n\n");
  out += rw->finish(nullptr);
  auto lines = Lines(out);
  ASSERT_EQ(lines.size(), 1u) << out;
  const json& calls = lines[0]["message"]["tool_calls"];
  ASSERT_EQ(calls.size(), 1u) << out;
  EXPECT_EQ(calls[0]["function"]["name"], "weather");
  EXPECT_EQ(calls[0]["function"]["arguments"], json::parse(R"({"city":"Oslo"})"));

  // A whole answer's calls.
  auto whole = OllamaAnswer(OllamaCall::kChat, "m", false, std::chrono::steady_clock::now());
  whole->begin(200, "application/json");
  whole->feed(R"({"choices":[{"message":{"content":null,"tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}},{"id":"b","type":"function","function":{"name":"g","arguments":"{}"}}]},"finish_reason":"tool_calls"}]})");
  const json j = json::parse(whole->finish(nullptr));
  ASSERT_EQ(j["message"]["tool_calls"].size(), 2u) << j.dump();
  EXPECT_EQ(j["message"]["tool_calls"][0]["function"]["arguments"]["x"], 1);
  EXPECT_EQ(j["message"]["tool_calls"][1]["function"]["name"], "g");
}

}  // namespace
}  // namespace kitty::web
