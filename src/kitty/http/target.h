// Request targets: what a client asked for, reduced to one canonical path before any route
// sees it, so "/v1/../../shutdown" or "/v1/%2e%2e/x" can never reach a worker as something
// other than what kittyd routed (issue 8).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "kitty/base/result.h"

namespace kitty::web {

struct Target {
  std::string path;   // decoded, dot segments removed, always starting with '/'
  std::string query;  // raw, without '?': forwarded as it came
  std::map<std::string, std::string> params;  // the query, decoded

  /// The origin-form target to forward: path re-encoded where needed, then "?query".
  std::string forward() const;
};

/// Parses an origin-form ("/a/b?x=1") or absolute-form ("http://host/a/b") target.
/// Percent-decodes the path, removes "." and ".." segments (RFC 3986 5.2.4; ".." never climbs
/// above the root) and merges repeated slashes. Errors (code kInvalidRequest): an empty or
/// asterisk target, an encoded '/' (%2F) or NUL, a backslash, a bad percent escape.
Result<Target> ParseTarget(std::string_view raw);

}  // namespace kitty::web
