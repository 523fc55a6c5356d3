// kittyctl's commands over kittyd's admin API (docs/API.md). Each returns the process exit code
// and prints results on stdout, errors as "kittyctl: <message>" on stderr.
#pragma once

#include <chrono>
#include <cstdint>
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
/// Any answer kittyd gave, error statuses included, for commands that read an error as
/// information (404 `not_found` from a kittyd older than a route means "not supported here").
struct Answer {
  int status = 0;
  std::string raw;
  nlohmann::json json;  // is_discarded() when the body is not JSON
  /// error.code of an error body ("not_found"), else "".
  std::string error_code;
};
/// One exchange with kittyd; an error only when no answer came (code "unreachable": exit 2, or
/// "timeout"/"io"), with a message ready to print. `body` is sent as JSON ("{}" when empty, for
/// POST).
Result<Answer> Ask(const Context& ctx, const std::string& method, const std::string& path,
                   const std::string& body = "");
/// Whether the answer says kittyd has no such route (404 `not_found`), as a kittyd from before
/// the route was added answers. A 404 for an unknown model is `model_not_found`, not this.
bool IsUnknownRoute(const Answer& answer);
/// One call to kittyd: the reply on a 2xx answer with a JSON body, else an error whose code is
/// "unreachable" (exit 2) or anything else (exit 1) and whose message is ready to print.
Result<Reply> Call(const Context& ctx, const std::string& method, const std::string& path,
                   const std::string& body = "");
/// Call, for a route newer than some kittyds: an unknown-route answer becomes "this kittyd does
/// not support <feature> (404 not_found)".
Result<Reply> CallFeature(const Context& ctx, const std::string& feature, const std::string& method,
                          const std::string& path, const std::string& body = "");
/// Prints "kittyctl: <message>" on stderr and returns the exit code for the error.
int Fail(const Error& error);
/// Prints kittyd's JSON for scripts (--json), byte for byte, ending in a newline.
void PrintRaw(const Reply& reply);

/// "/kitty/workers/<id>" with the id percent-encoded.
std::string WorkerPath(const std::string& model_id);

int RunPs(const Context& ctx, bool json);
int RunEnsure(const Context& ctx, const std::string& model_id, bool reset, bool json);
/// POST /kitty/config/reload: one line per model ("qwen: restart_when_idle").
int RunReload(const Context& ctx, bool force, bool json);
/// GET /kitty/events: the lifecycle events kittyd still holds, one line each (time, kind, model,
/// reason, message), of one model or all; `follow` keeps printing new ones until Ctrl-C.
int RunEvents(const Context& ctx, const std::string& model, bool follow, bool json);
/// GET /kitty/ollama ("status") or POST /kitty/ollama/restart ("restart"): the Ollama daemon
/// kittyd watches. Exit 1 when it is down.
int RunOllama(const Context& ctx, const std::string& op, bool json);
int RunRelease(const Context& ctx, const std::string& model_id, bool force, bool json);
int RunReleaseAll(const Context& ctx, bool force, bool json);
int RunModels(const Context& ctx, bool json);
/// Prints the last `lines` lines; with `follow`, then polls every 250 ms for new ones until
/// SIGINT/SIGTERM (exit 0 then).
int RunLogs(const Context& ctx, const std::string& model_id, int lines, bool follow);
/// The ops manual's health check: kittyd's /health, then every model. Exit 0 when all is well,
/// 1 when a model failed or kittyd answered with an error, 2 when kittyd is unreachable.
int RunHealth(const Context& ctx);

/// `kittyctl top`: the live view of models and system memory (top.cc).
struct TopOptions {
  double interval_s = 2;
  bool once = false;  // one frame, then exit (what scripts and tests use)
  bool json = false;  // print {"workers": [...], "memory": {...}|null} instead of the frame
};
/// Exit 0 after q, Ctrl-C or one frame (--once); 2 when kittyd cannot be reached at the first
/// refresh (later, the frame says so and the view keeps trying); 1 when kittyd answers the first
/// refresh with an error.
int RunTop(const Context& ctx, const TopOptions& options);

// Runtime policy and headroom (issue 9; policy.cc). Each prints the model's policy after the
// change (views.h PolicyLine) or kittyd's JSON with `json`.
int RunPin(const Context& ctx, const std::string& model_id, bool pinned, bool json);
int RunPriority(const Context& ctx, const std::string& model_id, int64_t priority, bool json);
/// `bytes` as typed: "2GiB", "1.5GB", "1073741824" (format.h ParseByteSize); a bad size exits 64.
int RunHeadroom(const Context& ctx, const std::string& bytes, bool json);

}  // namespace kitty::ctl
