#include "kitty/base/error_code.h"

namespace kitty {
namespace {

constexpr std::string_view kBadRequest = "invalid_request_error";
constexpr std::string_view kAuth = "authentication_error";
constexpr std::string_view kNotImplemented = "not_implemented_error";
constexpr std::string_view kServer = "server_error";

constexpr ErrorCodeInfo Leaf(int status, std::string_view type, std::string_view code) {
  return {status, type, code, {}};
}
constexpr ErrorCodeInfo StartFailed(std::string_view reason) {
  return {503, kServer, "worker_start_failed", reason};
}
constexpr ErrorCodeInfo Internal(std::string_view reason) {
  return {500, kServer, "internal_error", reason};
}

}  // namespace

ErrorCodeInfo Describe(ErrorCode c) {
  // No default: -Werror=switch makes a missing enumerator a build error.
  switch (c) {
    case ErrorCode::kInternal: return Leaf(500, kServer, "internal_error");
    case ErrorCode::kInvalidJson: return Leaf(400, kBadRequest, "invalid_json");
    case ErrorCode::kMissingModel: return Leaf(400, kBadRequest, "missing_model");
    case ErrorCode::kInvalidRequest: return Leaf(400, kBadRequest, "invalid_request");
    case ErrorCode::kInvalidApiKey: return Leaf(401, kAuth, "invalid_api_key");
    case ErrorCode::kModelNotFound: return Leaf(404, kBadRequest, "model_not_found");
    case ErrorCode::kRouteNotFound: return Leaf(404, kBadRequest, "not_found");
    case ErrorCode::kHoldNotFound: return Leaf(404, kBadRequest, "hold_not_found");
    case ErrorCode::kMethodNotAllowed: return Leaf(405, kBadRequest, "method_not_allowed");
    case ErrorCode::kRequestTimeout: return Leaf(408, kBadRequest, "request_timeout");
    case ErrorCode::kBodyTooLarge: return Leaf(413, kBadRequest, "body_too_large");
    case ErrorCode::kHeaderTooLarge: return Leaf(431, kBadRequest, "header_too_large");
    case ErrorCode::kUnsupported: return Leaf(501, kNotImplemented, "unsupported");
    case ErrorCode::kUpstreamError: return Leaf(502, kServer, "upstream_error");
    case ErrorCode::kWorkerCrashed: return {502, kServer, "upstream_error", "worker_crashed"};
    case ErrorCode::kWorkerHung: return {502, kServer, "upstream_error", "worker_hung"};
    case ErrorCode::kWorkerStartFailed: return Leaf(503, kServer, "worker_start_failed");
    case ErrorCode::kExecFailed: return StartFailed("exec_failed");
    case ErrorCode::kLaunchInvalid: return StartFailed("launch_invalid");
    case ErrorCode::kModelFileInvalid: return StartFailed("model_file_invalid");
    case ErrorCode::kPortInUse: return StartFailed("port_in_use");
    case ErrorCode::kNoFreePort: return StartFailed("no_free_port");
    case ErrorCode::kWorkerExited: return StartFailed("exited");
    case ErrorCode::kWorkerStopping: return Leaf(503, kServer, "worker_stopping");
    case ErrorCode::kShuttingDown: return Leaf(503, kServer, "shutting_down");
    case ErrorCode::kServerBusy: return Leaf(503, kServer, "server_busy");
    case ErrorCode::kNoRoom: return Leaf(503, kServer, "no_room");
    // 429, not 503: the refusal is about now. A router (Ray, the inference gateway's picker,
    // an OpenAI SDK's retry) moves the request elsewhere or comes back after Retry-After.
    case ErrorCode::kNoRoomBusy: return Leaf(429, kServer, "no_room_busy");
    case ErrorCode::kStartTimeout: return Leaf(504, kServer, "start_timeout");
    case ErrorCode::kFileNotFound: return Internal("file_not_found");
    case ErrorCode::kIoError: return Internal("io_error");
    case ErrorCode::kConfigInvalid: return Internal("config_invalid");
    case ErrorCode::kListenFailed: return Internal("listen_failed");
    case ErrorCode::kAlreadyRunning: return Internal("already_running");
    case ErrorCode::kPlatformUnsupported: return Internal("platform_unsupported");
    case ErrorCode::kUnreachable: return Internal("unreachable");
    case ErrorCode::kTimeout: return Internal("timeout");
    case ErrorCode::kBadUrl: return Internal("bad_url");
    case ErrorCode::kBadResponse: return Internal("bad_response");
  }
  return Internal("unknown_error_code");  // only for a value cast from outside the enum
}

int RetryAfterSeconds(ErrorCode c) {
  // The scheduler plans again every second and a busy model frees its memory when its last
  // request or hold ends; two seconds lets a short request finish without inviting a storm.
  return c == ErrorCode::kNoRoomBusy ? 2 : 0;
}

}  // namespace kitty
