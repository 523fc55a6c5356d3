#include "kittyctl/commands.h"

#include <cstdio>
#include <iostream>

#include "kittyctl/format.h"

namespace kitty::ctl {

using nlohmann::json;

Result<Reply> Call(const Context& ctx, const std::string& method, const std::string& path) {
  const HttpClient client = ctx.client();
  Result<HttpResponse> response = method == "GET"    ? client.Get(path)
                                  : method == "POST" ? client.Post(path)
                                                     : client.Delete(path);
  if (!response.ok()) {
    const Error& e = response.error();
    if (e.code == ErrorCode::kUnreachable) {
      return MakeError("cannot reach kittyd at " + ctx.url.text + ": " + e.message, e.code);
    }
    return MakeError(method + " " + path + " at " + ctx.url.text + ": " + e.message, e.code);
  }
  const int status = response->status;
  if (status < 200 || status > 299) {
    return MakeError(ErrorMessage(status, response->body), ErrorCode::kBadResponse);
  }
  json body = json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    return MakeError(method + " " + path + ": kittyd answered " + std::to_string(status) +
                         " with a body that is not JSON: " +
                         Truncate(FirstLine(response->body), 100),
                     ErrorCode::kBadResponse);
  }
  return Reply{std::move(body), std::move(response->body)};
}

int Fail(const Error& error) {
  std::cerr << "kittyctl: " << error.message << std::endl;
  return error.code == ErrorCode::kUnreachable ? kExitUnreachable : kExitError;
}

std::string WorkerPath(const std::string& model_id) {
  return "/kitty/workers/" + EncodePathSegment(model_id);
}

namespace {

// Prints the daemon's JSON for scripts, byte for byte, ending in a newline.
void PrintRaw(const Reply& reply) {
  std::cout << reply.raw;
  if (reply.raw.empty() || reply.raw.back() != '\n') std::cout << '\n';
  std::cout << std::flush;
}

}  // namespace

int RunPs(const Context& ctx, bool as_json) {
  Result<Reply> body = Call(ctx, "GET", "/kitty/system/workers");
  if (!body.ok()) return Fail(body.error());
  if (as_json) {
    PrintRaw(*body);
  } else {
    std::cout << PsTable(body->json) << std::flush;
  }
  return kExitOk;
}

int RunEnsure(const Context& ctx, const std::string& model_id, bool as_json) {
  Result<Reply> worker = Call(ctx, "POST", WorkerPath(model_id) + "/ensure");
  if (!worker.ok()) return Fail(worker.error());
  if (as_json) {
    PrintRaw(*worker);
  } else {
    std::cout << EnsureLine(worker->json) << std::endl;
  }
  return kExitOk;
}

int RunRelease(const Context& ctx, const std::string& model_id, bool force, bool as_json) {
  const std::string query = force ? "?force=true" : "";
  Result<Reply> worker = Call(ctx, "POST", WorkerPath(model_id) + "/release" + query);
  if (!worker.ok()) return Fail(worker.error());
  if (as_json) {
    PrintRaw(*worker);
  } else {
    std::cout << ReleaseLine(worker->json) << std::endl;
  }
  return kExitOk;
}

int RunReleaseAll(const Context& ctx, bool force, bool as_json) {
  const std::string query = force ? "?force=true" : "";
  Result<Reply> body = Call(ctx, "POST", "/kitty/workers/release-all" + query);
  if (!body.ok()) return Fail(body.error());
  if (as_json) {
    PrintRaw(*body);
    return kExitOk;
  }
  const json& reply = body->json;
  if (reply.is_object() && reply.contains("workers") && reply["workers"].is_array()) {
    for (const json& w : reply["workers"]) std::cout << ReleaseLine(w) << "\n";
  }
  std::cout << std::flush;
  return kExitOk;
}

int RunModels(const Context& ctx, bool as_json) {
  Result<Reply> body = Call(ctx, "GET", "/v1/models");
  if (!body.ok()) return Fail(body.error());
  if (as_json) {
    PrintRaw(*body);
  } else {
    std::cout << ModelsTable(body->json) << std::flush;
  }
  return kExitOk;
}

}  // namespace kitty::ctl
