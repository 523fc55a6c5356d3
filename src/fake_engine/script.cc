#include "fake_engine/script.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace kitty::fake {

std::string Answer::Text() const {
  std::string text;
  for (const std::string& t : tokens) text += t;
  return text;
}

std::string_view Utf8Prefix(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t n = max_bytes;
  // Back off over continuation bytes (10xxxxxx) so the cut lands before a sequence's lead byte.
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

Answer MakeAnswer(std::string_view prompt, int scripted_tokens, std::optional<int> max_tokens,
                  const std::vector<std::string>& stops) {
  Answer a;
  int n = scripted_tokens;
  a.finish_reason = "stop";
  if (max_tokens && *max_tokens > 0 && *max_tokens <= n) {
    n = *max_tokens;
    a.finish_reason = "length";
  }
  a.tokens.reserve(n);
  std::string first = "echo: ";
  first += Utf8Prefix(prompt, kEchoBytes);
  a.tokens.push_back(std::move(first));
  for (int i = 1; i < n; ++i) a.tokens.push_back(" tok" + std::to_string(i));

  // Stop strings: cut the text before the earliest match, dropping the tokens after it.
  const std::string text = a.Text();
  size_t cut = std::string::npos;
  for (const std::string& s : stops) {
    if (s.empty()) continue;
    cut = std::min(cut, text.find(s));
  }
  if (cut == std::string::npos) return a;
  size_t pos = 0;
  std::vector<std::string> kept;
  for (const std::string& t : a.tokens) {
    if (pos + t.size() > cut) {
      if (cut > pos) kept.push_back(t.substr(0, cut - pos));
      break;
    }
    kept.push_back(t);
    pos += t.size();
  }
  a.tokens = std::move(kept);
  a.finish_reason = "stop";
  return a;
}

int CountTokens(std::string_view text) {
  int words = 0;
  bool in_word = false;
  for (char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

std::vector<float> Embed(std::string_view input) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a offset basis
  for (unsigned char c : input) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  std::vector<float> v(kEmbeddingSize);
  double norm = 0;
  for (float& x : v) {
    // splitmix64 steps spread the hash over every component.
    h += 0x9E3779B97F4A7C15ULL;
    uint64_t z = h;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    x = static_cast<float>(static_cast<double>(z >> 11) / 9007199254740992.0 * 2.0 - 1.0);
    norm += static_cast<double>(x) * x;
  }
  norm = std::sqrt(norm);
  if (norm > 0) {
    for (float& x : v) x = static_cast<float>(x / norm);
  }
  return v;
}

}  // namespace kitty::fake
