// kittyctl ollama status|restart: the Ollama daemon kittyd watches (GET /kitty/ollama, POST
// /kitty/ollama/restart, the seed's "reset daemon" hook).
#include <iostream>

#include "kittyctl/commands.h"

namespace kitty::ctl {
namespace {

using json = nlohmann::json;

std::string Str(const json& j, const char* key, const std::string& none = "-") {
  if (!j.contains(key) || j[key].is_null()) return none;
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

void PrintStatus(const json& j) {
  std::cout << "ollama " << Str(j, "url") << ": " << Str(j, "health");
  if (j.contains("latency_seconds") && j["latency_seconds"].is_number())
    std::cout << " (answered in " << static_cast<int>(j["latency_seconds"].get<double>() * 1000) << " ms)";
  std::cout << "\n  version " << Str(j, "version") << ", managed " << (j.value("manage", false) ? "yes" : "no")
            << ", started by kittyd " << (j.value("started_by_kittyd", false) ? "yes (pid " + Str(j, "pid") + ")" : "no")
            << "\n  restarts in the last hour " << Str(j, "restarts_last_hour") << " of "
            << Str(j, "max_restarts_per_hour") << (j.value("gave_up", false) ? " (gave up: models use their fallbacks)" : "")
            << "\n";
  if (!j["last_error"].is_null()) std::cout << "  last error: " << Str(j, "last_error") << "\n";
  std::cout << std::flush;
}

}  // namespace

int RunOllama(const Context& ctx, const std::string& op, bool as_json) {
  const bool restart = op == "restart";
  Result<Reply> r = CallFeature(ctx, "Ollama supervision", restart ? "POST" : "GET",
                                restart ? "/kitty/ollama/restart" : "/kitty/ollama");
  if (!r.ok()) return Fail(r.error());
  if (as_json) {
    PrintRaw(*r);
    return kExitOk;
  }
  if (restart) std::cout << "restarted; ";
  PrintStatus(r->json);
  return Str(r->json, "health") == "down" ? kExitError : kExitOk;
}

}  // namespace kitty::ctl
