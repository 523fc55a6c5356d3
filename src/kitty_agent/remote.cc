// kitty-agent remote: an OpenAI-compatible server kittyd never starts or stops (a cloud model,
// another kittyd). The agent only says whether it answers: ready once GET <prefix>/v1/models
// does (with the key), and it exits (4) when it stops answering for gone_seconds, so kittyd
// marks the model failed and its fallbacks take over. Stopping the agent stops nothing remote.
#include <chrono>
#include <nlohmann/json.hpp>

#include "kitty_agent/agent.h"

namespace kitty::agent {
namespace {

using Clock = std::chrono::steady_clock;

// OpenAI-style base URLs end in /v1 (https://api.example.com/v1); kittyd's also may not.
std::string ModelsPath(const ctl::BaseUrl& u) {
  const std::string& p = u.prefix;
  return p.size() >= 3 && p.compare(p.size() - 3, 3, "/v1") == 0 ? "/models" : "/v1/models";
}

Status Check(const ctl::HttpClient& http, const Options& o) {
  auto r = http.Get(ModelsPath(o.url));
  if (!r) return MakeError(o.url.text + ": " + r.error().message);
  if (r->status == 401 || r->status == 403)
    return MakeError(o.url.text + ": HTTP " + std::to_string(r->status) +
                     (o.api_key.empty() ? " (no API key: set remote_api_key_env)" : " (the API key was refused)"));
  if (r->status < 200 || r->status >= 300) return MakeError(o.url.text + ": HTTP " + std::to_string(r->status));
  return {};
}

std::string Body(const Options& o, const char* status) {
  return nlohmann::json{{"status", status}, {"backend", "remote"}, {"remote_url", o.url.text}, {"remote_model", o.model}}
      .dump();
}

}  // namespace

int RunRemote(const Options& o, HealthServer& health) {
  const ctl::HttpClient http(o.url, o.api_key, std::chrono::seconds(10));
  const auto until = Clock::now() + std::chrono::duration<double>(o.wait_seconds);
  for (;;) {
    auto st = Check(http, o);
    if (st.ok()) break;
    if (Clock::now() >= until || g_stop) {
      Say("error: %s", st.error().message.c_str());
      return kExitStartFailed;
    }
    SleepOrStop(1);
  }
  Say("remote '%s' at %s answers", o.model.c_str(), o.url.text.c_str());
  health.Set(200, Body(o, "ok"));
  auto last_ok = Clock::now();
  while (!SleepOrStop(o.poll_seconds)) {
    auto st = Check(http, o);
    if (st.ok()) {
      last_ok = Clock::now();
      health.Set(200, Body(o, "ok"));
      continue;
    }
    Say("warning: %s", st.error().message.c_str());
    if (Clock::now() - last_ok >= std::chrono::duration<double>(o.gone_seconds)) {
      Say("error: the remote stopped answering for %.0f s", o.gone_seconds);
      return kExitUpstreamGone;
    }
  }
  return 0;
}

}  // namespace kitty::agent
