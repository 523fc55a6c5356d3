// kittyctl's commands over kittyd's admin API (docs/API.md). Each returns the process exit code
// and prints results on stdout, errors as "kittyctl: <message>" on stderr.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "kitty/base/result.h"
#include "kittyctl/http_client.h"

namespace kitty::ctl {

/// Exit codes: kittyd answered with an error (or a model failed, for health); kittyd could not
/// be reached; the command line was wrong (sysexits' EX_USAGE).
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUnreachable = 2;
inline constexpr int kExitUsage = 64;

/// What every command needs: where kittyd is and how long to wait for it.
struct Context {
  BaseUrl url;
  std::string api_key;
  std::chrono::milliseconds timeout{10'000};

  HttpClient client() const { return HttpClient(url, api_key, timeout); }
};

/// A 2xx answer from kittyd: the body parsed, and as sent (what --json prints).
struct Reply {
  nlohmann::json json;
  std::string raw;
};
/// One call to kittyd: the reply on a 2xx answer with a JSON body, else an error whose code is
/// "unreachable" (exit 2) or anything else (exit 1) and whose message is ready to print.
Result<Reply> Call(const Context& ctx, const std::string& method, const std::string& path);
/// Prints "kittyctl: <message>" on stderr and returns the exit code for the error.
int Fail(const Error& error);

/// "/kitty/workers/<id>" with the id percent-encoded.
std::string WorkerPath(const std::string& model_id);

int RunPs(const Context& ctx, bool json);
int RunEnsure(const Context& ctx, const std::string& model_id, bool json);
int RunRelease(const Context& ctx, const std::string& model_id, bool force, bool json);
int RunReleaseAll(const Context& ctx, bool force, bool json);
int RunModels(const Context& ctx, bool json);
/// Prints the last `lines` lines; with `follow`, then polls every 250 ms for new ones until
/// SIGINT/SIGTERM (exit 0 then).
int RunLogs(const Context& ctx, const std::string& model_id, int lines, bool follow);
/// The ops manual's health check: kittyd's /health, then every model. Exit 0 when all is well,
/// 1 when a model failed or kittyd answered with an error, 2 when kittyd is unreachable.
int RunHealth(const Context& ctx);

}  // namespace kitty::ctl
