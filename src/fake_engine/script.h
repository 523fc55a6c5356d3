// The fake model: deterministic answers and embeddings, pure functions of the request.
//
// Tests check that an answer belongs to its request, so every answer starts by echoing the prompt:
//   tokens = ["echo: <first 32 bytes of the prompt, cut on a UTF-8 boundary>", " tok1", " tok2", ...]
// and the answer text is their concatenation.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kitty::fake {

/// A scripted answer. `finish_reason` is "length" when the request's max_tokens cut it, "stop" when
/// a stop string did or when the whole scripted answer fit.
struct Answer {
  std::vector<std::string> tokens;
  std::string finish_reason;
  std::string Text() const;
};

/// How many bytes of the prompt the first token echoes.
inline constexpr size_t kEchoBytes = 32;

/// The answer to `prompt`: `scripted_tokens` tokens, or `max_tokens` if smaller and positive, cut
/// before the earliest occurrence of any non-empty `stops` string.
Answer MakeAnswer(std::string_view prompt, int scripted_tokens, std::optional<int> max_tokens,
                  const std::vector<std::string>& stops);

/// The first `max_bytes` of `s`, shortened so that no UTF-8 sequence is cut.
std::string_view Utf8Prefix(std::string_view s, size_t max_bytes);

/// A rough token count for usage figures: whitespace-separated words, at least 1 for non-empty text.
int CountTokens(std::string_view text);

/// Dimension of every embedding.
inline constexpr size_t kEmbeddingSize = 8;

/// A unit-length vector of kEmbeddingSize floats, deterministic in `input` (FNV-1a seeded).
std::vector<float> Embed(std::string_view input);

}  // namespace kitty::fake
