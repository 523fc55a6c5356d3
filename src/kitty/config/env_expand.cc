#include "kitty/config/env_expand.h"

#include <pwd.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <vector>

namespace kitty {
namespace {

bool IsNameStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

// Finds the '}' closing the '${' whose body starts at `from`, allowing nested ${...} in a
// default. Returns npos when unterminated.
size_t FindClose(std::string_view s, size_t from) {
  int depth = 1;
  for (size_t i = from; i < s.size(); ++i) {
    if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') {
      ++depth;
      ++i;
    } else if (s[i] == '}') {
      if (--depth == 0) return i;
    }
  }
  return std::string_view::npos;
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

bool IsLaunchPlaceholder(std::string_view name) {
  static constexpr std::array<std::string_view, 6> kNames = {"PORT",     "HOST",    "MODEL_PATH",
                                                             "MODEL_ID", "THREADS", "CTX"};
  for (auto n : kNames)
    if (n == name) return true;
  return false;
}

Result<std::string> ExpandEnv(std::string_view s, const EnvLookup& env) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c != '$' || i + 1 >= s.size()) {
      out += c;
      continue;
    }
    char next = s[i + 1];
    if (next == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (next != '{') {
      out += c;
      continue;
    }
    size_t body = i + 2;
    size_t close = FindClose(s, body);
    if (close == std::string_view::npos)
      return MakeError("unterminated '${' in \"" + std::string(s) + "\"");
    std::string_view inner = s.substr(body, close - body);
    size_t n = 0;
    while (n < inner.size() && IsNameChar(inner[n])) ++n;
    std::string name(inner.substr(0, n));
    if (name.empty() || !IsNameStart(name[0]))
      return MakeError("bad variable reference '${" + std::string(inner) + "}'");
    std::string_view rest = inner.substr(n);
    std::optional<std::string_view> fallback;
    if (rest.substr(0, 2) == ":-") {
      fallback = rest.substr(2);
    } else if (!rest.empty()) {
      return MakeError("bad variable reference '${" + std::string(inner) +
                       "}' (expected ${NAME} or ${NAME:-default})");
    }
    if (IsLaunchPlaceholder(name)) {
      // Filled by the command backend at launch, with the worker's actual values.
      out.append(s.substr(i, close + 1 - i));
      i = close;
      continue;
    }
    std::optional<std::string> value = env(name);
    if (value && !value->empty()) {
      out += *value;
    } else if (fallback) {
      auto expanded = ExpandEnv(*fallback, env);
      if (!expanded.ok()) return expanded.error();
      out += expanded.value();
    } else if (value) {
      out += *value;  // set but empty, no default: empty is what the user asked for
    } else {
      return MakeError("environment variable '" + name + "' is not set (use ${" + name +
                       ":-default} to give a default)");
    }
    i = close;
  }
  return out;
}

Result<std::string> ExpandHome(const std::string& path, const EnvLookup& env) {
  if (path.empty() || path[0] != '~' || (path.size() > 1 && path[1] != '/')) return path;
  std::string home;
  if (auto h = env("HOME"); h && !h->empty()) {
    home = *h;
  } else {
    std::vector<char> buf(16384);
    struct passwd pw;
    struct passwd* found = nullptr;
    if (getpwuid_r(getuid(), &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr &&
        found->pw_dir != nullptr)
      home = found->pw_dir;
  }
  if (home.empty()) return MakeError("cannot expand '~' in \"" + path + "\": HOME is not set");
  if (home.size() > 1 && home.back() == '/') home.pop_back();
  return home + path.substr(1);
}

}  // namespace kitty
