#include "kitty/config/suggest.h"

#include <algorithm>
#include <cctype>

namespace kitty {

int EditDistance(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  std::vector<int> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int sub = prev[j - 1] + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string NearestWord(std::string_view word, const std::vector<std::string_view>& candidates) {
  int limit = word.size() <= 4 ? 1 : 2;
  int best = limit + 1;
  std::string_view found;
  for (auto c : candidates) {
    int d = EditDistance(word, c);
    if (d < best && 2 * d < static_cast<int>(word.size())) {
      best = d;
      found = c;
    }
  }
  return std::string(found);
}

}  // namespace kitty
