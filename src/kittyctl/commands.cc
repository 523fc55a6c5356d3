#include "kittyctl/commands.h"

#include <cstdio>
#include <iostream>

#include "kittyctl/format.h"
#include "kittyctl/views.h"

namespace kitty::ctl {

using nlohmann::json;

Result<Answer> Ask(const Context& ctx, const std::string& method, const std::string& path,
                   const std::string& body) {
  const HttpClient client = ctx.client();
  Result<HttpResponse> response = method == "GET"    ? client.Get(path)
                                  : method == "POST" ? client.Post(path, body.empty() ? "{}" : body)
                                                     : client.Delete(path);
  if (!response.ok()) {
    const Error& e = response.error();
    if (e.code == ErrorCode::kUnreachable) {
      return MakeError("cannot reach kittyd at " + ctx.url.text + ": " + e.message, e.code);
    }
    return MakeError(method + " " + path + " at " + ctx.url.text + ": " + e.message, e.code);
  }
  Answer answer;
  answer.status = response->status;
  answer.json = json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (answer.status < 200 || answer.status > 299) answer.error_code = ErrorCodeOf(response->body);
  answer.raw = std::move(response->body);
  return answer;
}

bool IsUnknownRoute(const Answer& answer) {
  return answer.status == 404 && answer.error_code == "not_found";
}

namespace {

// A 2xx answer with a JSON body as a Reply; anything else as an error ready to print.
Result<Reply> AsReply(const std::string& method, const std::string& path, Answer answer) {
  if (answer.status < 200 || answer.status > 299) {
    return MakeError(ErrorMessage(answer.status, answer.raw), ErrorCode::kBadResponse);
  }
  if (answer.json.is_discarded()) {
    return MakeError(method + " " + path + ": kittyd answered " + std::to_string(answer.status) +
                         " with a body that is not JSON: " + Truncate(FirstLine(answer.raw), 100),
                     ErrorCode::kBadResponse);
  }
  return Reply{std::move(answer.json), std::move(answer.raw)};
}

}  // namespace

Result<Reply> Call(const Context& ctx, const std::string& method, const std::string& path,
                   const std::string& body) {
  Result<Answer> answer = Ask(ctx, method, path, body);
  if (!answer.ok()) return answer.error();
  return AsReply(method, path, std::move(*answer));
}

Result<Reply> CallFeature(const Context& ctx, const std::string& feature, const std::string& method,
                          const std::string& path, const std::string& body) {
  Result<Answer> answer = Ask(ctx, method, path, body);
  if (!answer.ok()) return answer.error();
  if (IsUnknownRoute(*answer)) {
    return MakeError("this kittyd does not support " + feature + " (404 not_found)",
                     ErrorCode::kBadResponse);
  }
  return AsReply(method, path, std::move(*answer));
}

int Fail(const Error& error) {
  std::cerr << "kittyctl: " << error.message << std::endl;
  return error.code == ErrorCode::kUnreachable ? kExitUnreachable : kExitError;
}

std::string WorkerPath(const std::string& model_id) {
  return "/kitty/workers/" + EncodePathSegment(model_id);
}

void PrintRaw(const Reply& reply) {
  std::cout << reply.raw;
  if (reply.raw.empty() || reply.raw.back() != '\n') std::cout << '\n';
  std::cout << std::flush;
}

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

int RunEnsure(const Context& ctx, const std::string& model_id, bool reset, bool as_json) {
  Result<Reply> worker = Call(ctx, "POST", WorkerPath(model_id) + "/ensure" + (reset ? "?reset=true" : ""));
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

int RunReload(const Context& ctx, bool force, bool as_json) {
  Result<Reply> body = Call(ctx, "POST", std::string("/kitty/config/reload") + (force ? "?force=true" : ""));
  if (!body.ok()) return Fail(body.error());
  if (as_json) {
    PrintRaw(*body);
    return kExitOk;
  }
  const json& r = body->json;
  std::cout << "reloaded " << r.value("config", std::string("the config")) << "\n";
  if (r.contains("models") && r["models"].is_object())
    for (const auto& [id, what] : r["models"].items())
      std::cout << "  " << id << ": " << (what.is_string() ? what.get<std::string>() : what.dump()) << "\n";
  if (r.contains("not_applied") && r["not_applied"].is_array() && !r["not_applied"].empty()) {
    std::cout << "not applied until kittyd restarts:";
    for (const auto& k : r["not_applied"]) std::cout << " " << (k.is_string() ? k.get<std::string>() : k.dump());
    std::cout << "\n";
  }
  std::cout << std::flush;
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
