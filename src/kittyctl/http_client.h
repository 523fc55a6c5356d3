// HttpClient: a small synchronous HTTP/1.1 client for kittyctl, one connection per request.
//
// Each call runs its own io_context on the calling thread, so every step (resolve, connect,
// write, read) is bounded by the one deadline given to the client. Not thread-safe; kittyctl is
// single-threaded.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "kitty/base/http_url.h"
#include "kitty/base/result.h"

namespace kitty::ctl {

/// kittyd's base URL (`http://host[:port][/prefix]`; a bare host:port is taken as http).
using BaseUrl = HttpUrl;

/// Parses a base URL. Errors (code kBadUrl) say what is wrong: another scheme, a bad port.
inline Result<BaseUrl> ParseBaseUrl(const std::string& url) { return ParseHttpUrl(url, /*bare_ok=*/true); }

struct HttpResponse {
  int status = 0;
  std::string body;
};

/// Errors from requests carry code "unreachable" (resolve/connect failed: kittyd is not there),
/// "timeout" (the deadline passed) or "io" (the connection broke mid-request); the message is
/// the bare reason ("connection refused", "timed out after 10s").
class HttpClient {
 public:
  HttpClient(BaseUrl base, std::string api_key, std::chrono::milliseconds timeout)
      : base_(std::move(base)), api_key_(std::move(api_key)), timeout_(timeout) {}

  Result<HttpResponse> Get(const std::string& path) const { return Send("GET", path, ""); }
  Result<HttpResponse> Post(const std::string& path, const std::string& json_body = "{}") const {
    return Send("POST", path, json_body);
  }
  Result<HttpResponse> Delete(const std::string& path) const { return Send("DELETE", path, ""); }

  const BaseUrl& base() const { return base_; }

 private:
  Result<HttpResponse> Send(const std::string& method, const std::string& path,
                            const std::string& body) const;

  BaseUrl base_;
  std::string api_key_;
  std::chrono::milliseconds timeout_;
};

/// Percent-encodes what may not appear in a path segment ("/", "?", "%", spaces, non-ASCII).
std::string EncodePathSegment(const std::string& segment);

}  // namespace kitty::ctl
