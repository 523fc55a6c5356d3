// OpenAI streaming chunks, formatted as server-sent events, each framed as one HTTP/1.1 chunk.
//
// Built by hand rather than through nlohmann::json because the benchmarks measure proxy overhead
// against this server: one reused buffer per stream, no JSON tree per token.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kitty::fake {

enum class Api { kCompletion, kChat };

struct Usage {
  int prompt_tokens = 0;
  int completion_tokens = 0;
};

/// Appends `s` to `out` as a JSON string literal (quotes included). `s` must be valid UTF-8.
void AppendJsonString(std::string& out, std::string_view s);

/// Formats the events of one stream. Each method returns a view of an internal buffer that stays
/// valid until the next call: the bytes to write to the socket, already chunk-framed.
class StreamFormatter {
 public:
  StreamFormatter(Api api, std::string_view id, int64_t created, std::string_view model);

  /// Chat only: the first event, an empty delta that carries `"role": "assistant"`.
  std::string_view RoleEvent();
  /// One generated token.
  std::string_view TokenEvent(std::string_view token);
  /// The chunk with `finish_reason`, a usage chunk if `usage` is given, `data: [DONE]`, and the
  /// terminating zero-length HTTP chunk.
  std::string_view FinalEvents(std::string_view finish_reason, const Usage* usage);

 private:
  void StartEvent();
  void FinishEvent();  // frames payload_ as an HTTP chunk into out_

  Api api_;
  std::string base_;  // {"id":…,"object":…,"created":…,"model":…,
  std::string payload_;
  std::string out_;
};

}  // namespace kitty::fake
