#include "kitty/http/target.h"

#include "kitty/http/hex.h"

#include <vector>

namespace kitty::web {
namespace {

// Query parameters: '+' is a space there, and a bad escape is kept as written.
std::string DecodeQueryPart(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexDigit(s[i + 1]) >= 0 &&
        HexDigit(s[i + 2]) >= 0) {
      out += static_cast<char>(HexDigit(s[i + 1]) * 16 + HexDigit(s[i + 2]));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

Error Invalid(std::string_view raw, const std::string& why) {
  std::string shown(raw.substr(0, 200));
  return MakeError("invalid request target '" + shown + "': " + why, ErrorCode::kInvalidRequest);
}

bool Unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_' || c == '~';
}

// pchar minus '%': what a path segment may carry unescaped (RFC 3986).
bool PathSafe(char c) {
  if (Unreserved(c)) return true;
  switch (c) {
    case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+':
    case ',': case ';': case '=': case ':': case '@': case '/':
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string Target::forward() const {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size() + query.size() + 1);
  for (char c : path) {
    if (PathSafe(c)) {
      out += c;
    } else {
      const auto u = static_cast<unsigned char>(c);
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 0xf];
    }
  }
  if (!query.empty()) out += "?" + query;
  return out;
}

Result<Target> ParseTarget(std::string_view raw) {
  if (raw.empty()) return Invalid(raw, "empty");
  std::string_view rest = raw;
  if (rest[0] != '/') {
    // Absolute form (a client that talks to us as a proxy): drop scheme and authority.
    const size_t scheme = rest.find("://");
    if (scheme == std::string_view::npos || scheme == 0)
      return Invalid(raw, "not an origin-form or absolute-form target");
    rest.remove_prefix(scheme + 3);
    const size_t slash = rest.find_first_of("/?");
    if (slash == std::string_view::npos) rest = "/";
    else if (rest[slash] == '?') rest = std::string_view("/");  // "http://h?x": path "/"
    else rest.remove_prefix(slash);
  }
  Target t;
  const size_t q = rest.find('?');
  std::string_view raw_path = rest.substr(0, q);
  if (q != std::string_view::npos) {
    t.query = std::string(rest.substr(q + 1));
    std::string_view params = t.query;
    while (!params.empty()) {
      const size_t amp = params.find('&');
      std::string_view kv = params.substr(0, amp);
      const size_t eq = kv.find('=');
      if (!kv.empty())
        t.params[DecodeQueryPart(kv.substr(0, eq))] =
            eq == std::string_view::npos ? "" : DecodeQueryPart(kv.substr(eq + 1));
      if (amp == std::string_view::npos) break;
      params.remove_prefix(amp + 1);
    }
  }

  // Decode, refusing what would change the segments after decoding or confuse a worker.
  std::string decoded;
  decoded.reserve(raw_path.size());
  for (size_t i = 0; i < raw_path.size(); ++i) {
    char c = raw_path[i];
    if (c == '%') {
      if (i + 2 >= raw_path.size()) return Invalid(raw, "truncated percent escape");
      const int hi = HexDigit(raw_path[i + 1]), lo = HexDigit(raw_path[i + 2]);
      if (hi < 0 || lo < 0) return Invalid(raw, "bad percent escape");
      c = static_cast<char>(hi * 16 + lo);
      if (c == '/') return Invalid(raw, "an encoded '/' (%2F) in the path");
      i += 2;
    }
    if (c == '\0') return Invalid(raw, "a NUL byte in the path");
    if (c == '\\') return Invalid(raw, "a backslash in the path");
    decoded += c;
  }

  // Remove dot segments and empty segments.
  std::vector<std::string_view> segments;
  std::string_view p = decoded;
  const bool trailing_slash = p.size() > 1 && p.back() == '/';
  while (!p.empty()) {
    const size_t slash = p.find('/');
    std::string_view seg = p.substr(0, slash);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    if (slash == std::string_view::npos) break;
    p.remove_prefix(slash + 1);
  }
  t.path = "/";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i) t.path += '/';
    t.path += segments[i];
  }
  if (trailing_slash && !segments.empty()) t.path += '/';
  return t;
}

}  // namespace kitty::web
