// kittyctl pin | unpin | priority | headroom: runtime policy and headroom on request (issue 9).
//
// The routes are newer than some kittyds: an older one answers 404 `not_found`, which prints
// as "this kittyd does not support pin (404 not_found)" rather than as a missing model.
#include <iostream>
#include <nlohmann/json.hpp>

#include "kittyctl/commands.h"
#include "kittyctl/format.h"
#include "kittyctl/views.h"

namespace kitty::ctl {

namespace {

int PrintPolicy(const Result<Reply>& worker, bool as_json) {
  if (!worker.ok()) return Fail(worker.error());
  if (as_json) {
    PrintRaw(worker.value());
  } else {
    std::cout << PolicyLine(worker.value().json) << std::endl;
  }
  return kExitOk;
}

}  // namespace

int RunPin(const Context& ctx, const std::string& model_id, bool pinned, bool as_json) {
  const char* op = pinned ? "pin" : "unpin";
  return PrintPolicy(CallFeature(ctx, op, "POST", WorkerPath(model_id) + "/" + op), as_json);
}

int RunPriority(const Context& ctx, const std::string& model_id, int64_t priority, bool as_json) {
  const std::string body = nlohmann::json{{"priority", priority}}.dump();
  return PrintPolicy(
      CallFeature(ctx, "priority", "POST", WorkerPath(model_id) + "/priority", body), as_json);
}

int RunHeadroom(const Context& ctx, const std::string& bytes, bool as_json) {
  Result<uint64_t> parsed = ParseByteSize(bytes);
  if (!parsed.ok()) {
    std::cerr << "kittyctl: headroom: " << parsed.error().message << std::endl;
    return kExitUsage;
  }
  const std::string body = nlohmann::json{{"bytes", *parsed}}.dump();
  Result<Reply> answer = CallFeature(ctx, "headroom", "POST", "/kitty/memory/headroom", body);
  if (!answer.ok()) return Fail(answer.error());
  if (as_json) {
    PrintRaw(*answer);
  } else {
    std::cout << HeadroomLine(answer->json) << std::endl;
  }
  return kExitOk;
}

}  // namespace kitty::ctl
