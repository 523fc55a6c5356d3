// An http:// URL taken apart: kittyctl's --url, the Ollama daemon's and a remote server's URL in
// the config. Plain HTTP only: kittyd and kittyctl speak no TLS.
#pragma once

#include <string>

#include "kitty/base/result.h"

namespace kitty {

struct HttpUrl {
  std::string host;    // without brackets for IPv6
  int port = 80;
  std::string prefix;  // the path without a trailing '/', "" for none
  std::string text;    // the URL as given, for messages
};

/// Parses "http://host[:port][/prefix]" ("[::1]:7700" for IPv6). With `bare_ok`, "host:port"
/// without a scheme is taken as http (what people type at a command line). Errors (code
/// kBadUrl) say what is wrong: another scheme, no host, a port outside 1-65535.
Result<HttpUrl> ParseHttpUrl(const std::string& url, bool bare_ok = false);

}  // namespace kitty
