// "Did you mean ...?" for config keys: the nearest candidate by edit distance.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kitty {

/// Levenshtein distance (insert, delete, substitute; each costs 1), ASCII case-insensitive.
int EditDistance(std::string_view a, std::string_view b);

/// The candidate nearest to `word` when it is reasonably close (distance <= 2, and <= 1 for
/// words of 4 characters or fewer, and less than half the word); "" otherwise.
std::string NearestWord(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace kitty
