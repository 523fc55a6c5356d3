// ErrorCode: every error kitty can produce, as one enum, and the one table that says how each
// reaches a client: HTTP status, OpenAI error `type`, wire `code` and, for finer causes, the
// `reason`. Free-string codes let a spawner error escape as HTTP 500 (issue 8); with an enum
// and a switch without `default`, a new code that is not in the table does not compile.
//
// docs/API.md lists every wire code and reason of this table; error_code_test.cc walks every
// enumerator through the table and the docs.
#pragma once

#include <cstdint>
#include <string_view>

namespace kitty {

enum class ErrorCode : uint8_t {
  kInternal,  // a bug or an unexpected system error; keep first (the default)

  // The request (4xx).
  kInvalidJson,
  kMissingModel,
  kInvalidRequest,
  kInvalidApiKey,
  kModelNotFound,
  kRouteNotFound,
  kHoldNotFound,
  kMethodNotAllowed,
  kRequestTimeout,
  kBodyTooLarge,
  kHeaderTooLarge,
  kUnsupported,

  // The worker behind the request (5xx).
  kUpstreamError,
  kWorkerCrashed,      // upstream_error, reason worker_crashed
  kWorkerHung,         // upstream_error, reason worker_hung (busy_timeout_seconds, liveness)
  kWorkerStartFailed,  // a start failed; the reason-bearing codes below say why
  kExecFailed,
  kLaunchInvalid,
  kModelFileInvalid,
  kPortInUse,
  kNoFreePort,
  kWorkerExited,
  kWorkerStopping,
  kShuttingDown,
  kServerBusy,
  kNoRoom,  // the model does not fit the memory budget, and what holds it may not be stopped
  kNoRoomBusy,  // no room now, but models in use hold it and will free it: 429 with Retry-After
  kStartTimeout,

  // kittyd's own failures: 500 internal_error with the name as reason.
  kFileNotFound,
  kIoError,
  kConfigInvalid,
  kListenFailed,
  kAlreadyRunning,
  kPlatformUnsupported,
  kUnreachable,  // kittyctl: the daemon cannot be reached
  kTimeout,
  kBadUrl,
  kBadResponse,  // keep last: kErrorCodeCount counts up to here
};

inline constexpr int kErrorCodeCount = static_cast<int>(ErrorCode::kBadResponse) + 1;

struct ErrorCodeInfo {
  int http_status;
  std::string_view type;    // OpenAI's error type: invalid_request_error, server_error, ...
  std::string_view code;    // error.code on the wire
  std::string_view reason;  // error.reason on the wire; empty when the code says it all
};

/// The table. Total: every enumerator has an entry.
ErrorCodeInfo Describe(ErrorCode c);

/// `c` when it is a start failure (worker_start_failed with or without a reason), else the
/// plain kWorkerStartFailed: whatever stops a start reaches the client as a start failure.
inline ErrorCode AsStartFailure(ErrorCode c) {
  return Describe(c).code == "worker_start_failed" ? c : ErrorCode::kWorkerStartFailed;
}

/// The enumerator's own name on the wire: its reason when it has one, else its code.
/// Seconds a client should wait before asking again (the Retry-After header), for the codes that
/// mean "not now, soon"; 0 for the others.
int RetryAfterSeconds(ErrorCode c);

inline std::string_view ErrorCodeName(ErrorCode c) {
  const ErrorCodeInfo i = Describe(c);
  return i.reason.empty() ? i.code : i.reason;
}

}  // namespace kitty
