// kittyctl health: the ops manual's health check (seed 001 §6) over kittyd instead of one curl
// per service: the daemon first, then every configured model.
#include <iostream>

#include "kittyctl/commands.h"
#include "kittyctl/format.h"
#include "kittyctl/views.h"

namespace kitty::ctl {

using nlohmann::json;

int RunHealth(const Context& ctx) {
  Result<Reply> health = Call(ctx, "GET", "/health");
  if (!health.ok()) {
    // The report goes to stdout like the rest of it, so a cron mail shows one coherent block.
    std::cout << "✗ kittyd - " << health.error().message << std::endl;
    return health.error().code == ErrorCode::kUnreachable ? kExitUnreachable : kExitError;
  }
  const json& h = health->json;
  const std::string status = h.is_object() && h.value("status", json()).is_string()
                                 ? h["status"].get<std::string>()
                                 : "";
  if (status != "ok") {
    std::cout << "✗ kittyd - unhealthy (status " << (status.empty() ? "missing" : status) << ")"
              << std::endl;
    return kExitError;
  }

  Result<Reply> workers = Call(ctx, "GET", "/kitty/system/workers");
  if (!workers.ok()) {
    std::cout << "✗ kittyd - cannot list models: " << workers.error().message << std::endl;
    return workers.error().code == ErrorCode::kUnreachable ? kExitUnreachable : kExitError;
  }
  const json& list = workers->json.is_object() && workers->json.contains("workers")
                         ? workers->json["workers"]
                         : json::array();
  const size_t models = list.is_array() ? list.size() : 0;
  std::cout << "✓ kittyd - healthy (" << models << (models == 1 ? " model)" : " models)") << "\n";
  bool any_failed = false;
  if (list.is_array()) {
    for (const json& w : list) {
      std::cout << HealthLine(w) << "\n";
      any_failed = any_failed || (w.is_object() && w.value("status", json()) == "failed");
    }
  }
  std::cout << std::flush;
  return any_failed ? kExitError : kExitOk;
}

}  // namespace kitty::ctl
