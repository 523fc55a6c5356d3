// kitty-agent ollama: a model inside an Ollama daemon under kittyd's lifecycle.
//
// Start: wait for the daemon (GET /api/version); find the model (GET /api/tags), pull or create
// it when missing and asked to; load it (POST /api/generate without a prompt, keep_alive = the
// lease); confirm with GET /api/ps. Ready: every poll, /api/ps must still list it (else Ollama
// dropped it on its own: exit 3), and the lease is renewed well before it runs out, so a
// kittyd that dies (its watchdog SIGKILLs this agent) leaves the model in Ollama for one lease
// at most. Requests through Ollama's OpenAI routes set Ollama's default keep_alive on the model
// meanwhile; the renewal puts the lease back. Stop: keep_alive 0, then wait until /api/ps no
// longer lists it, so "stopped" in kittyd means the memory is back.
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "kitty_agent/agent.h"

extern char** environ;

namespace kitty::agent {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string KeepAlive(double seconds) { return std::to_string(static_cast<long long>(seconds)) + "s"; }

// Ollama names without a tag mean ":latest".
bool SameModel(const std::string& listed, const std::string& wanted) {
  if (listed == wanted) return true;
  if (wanted.find(':') == std::string::npos) return listed == wanted + ":latest";
  return false;
}

class Ollama {
 public:
  explicit Ollama(const Options& o)
      : o_(o), quick_(o.url, "", std::chrono::seconds(5)), slow_(o.url, "", std::chrono::minutes(30)) {}

  Result<json> Get(const std::string& path) const { return Parse(quick_.Get(path), path); }
  Result<json> Post(const std::string& path, const json& body, bool slow = false) const {
    return Parse((slow ? slow_ : quick_).Post(path, body.dump()), path);
  }

  /// The /api/ps entry of the model, null when it is not loaded; an error when Ollama does not
  /// answer.
  Result<json> Loaded() const {
    auto ps = Get("/api/ps");
    if (!ps) return ps.error();
    for (const auto& m : ps->value("models", json::array()))
      if (SameModel(m.value("name", ""), o_.model) || SameModel(m.value("model", ""), o_.model)) return m;
    return json(nullptr);
  }

 private:
  Result<json> Parse(Result<ctl::HttpResponse> r, const std::string& path) const {
    if (!r) return MakeError("Ollama at " + o_.url.text + ": " + path + ": " + r.error().message, r.error().code);
    auto body = json::parse(r->body, nullptr, false);
    if (r->status < 200 || r->status >= 300) {
      std::string why = body.is_object() && body.contains("error") ? body["error"].dump() : r->body.substr(0, 300);
      return MakeError("Ollama at " + o_.url.text + ": " + path + ": HTTP " + std::to_string(r->status) + ": " + why);
    }
    if (body.is_discarded()) return MakeError("Ollama at " + o_.url.text + ": " + path + ": not JSON");
    return body;
  }

  const Options& o_;
  ctl::HttpClient quick_, slow_;
};

// What GET /health answers while the model is loaded: Ollama's own figures for it.
// What GET /health answers while the agent starts: the phase it is in.
std::string PhaseBody(const Options& o, const char* phase) {
  return json{{"status", phase}, {"backend", "ollama"}, {"ollama_url", o.url.text}, {"ollama_model", o.model}}.dump();
}

std::string ReadyBody(const Options& o, const json& ps) {
  json b = {{"status", "ok"},
            {"backend", "ollama"},
            {"ollama_url", o.url.text},
            {"ollama_model", ps.value("name", o.model)},
            {"size_bytes", ps.value("size", 0)},
            {"size_vram_bytes", ps.value("size_vram", 0)},
            {"expires_at", ps.value("expires_at", "")}};
  if (ps.contains("context_length")) b["context_length"] = ps["context_length"];
  if (ps.contains("details")) b["details"] = ps["details"];
  return b.dump();
}

Status WaitForDaemon(const Ollama& api, const Options& o) {
  const auto until = Clock::now() + std::chrono::duration<double>(o.wait_seconds);
  for (;;) {
    auto v = api.Get("/api/version");
    if (v) {
      Say("Ollama %s answers at %s", v->value("version", "?").c_str(), o.url.text.c_str());
      return {};
    }
    if (Clock::now() >= until || g_stop)
      return MakeError(v.error().message + " (waited " + KeepAlive(o.wait_seconds) + "; is `ollama serve` running?)");
    SleepOrStop(0.5);
  }
}

// `ollama create MODEL -f FILE` with OLLAMA_HOST pointing at the daemon: the CLI uploads the
// Modelfile's blobs, which the HTTP API alone would make us reimplement.
Status CreateFromModelfile(const Options& o) {
  Say("creating '%s' in Ollama from %s (%s create)", o.model.c_str(), o.modelfile.c_str(), o.ollama_bin.c_str());
  std::vector<std::string> args = {o.ollama_bin, "create", o.model, "-f", o.modelfile};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  setenv("OLLAMA_HOST", (o.url.host + ":" + std::to_string(o.url.port)).c_str(), 1);
  pid_t pid;
  int rc = posix_spawnp(&pid, o.ollama_bin.c_str(), nullptr, nullptr, argv.data(), environ);
  if (rc != 0) return MakeError("cannot run " + o.ollama_bin + ": " + strerror(rc) + " (set ollama.bin)");
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    return MakeError(o.ollama_bin + " create " + o.model + " failed (its output is above)");
  return {};
}

Status EnsurePresent(const Ollama& api, const Options& o, HealthServer& health) {
  auto tags = api.Get("/api/tags");
  if (!tags) return tags.error();
  std::string have;
  for (const auto& m : tags->value("models", json::array())) {
    const std::string name = m.value("name", "");
    if (SameModel(name, o.model)) return {};
    have += (have.empty() ? "" : ", ") + name;
  }
  if (!o.modelfile.empty()) {
    health.Set(503, PhaseBody(o, "creating"));
    return CreateFromModelfile(o);
  }
  if (o.pull) {
    health.Set(503, PhaseBody(o, "pulling"));
    Say("pulling '%s' into Ollama", o.model.c_str());
    auto r = api.Post("/api/pull", {{"model", o.model}, {"stream", false}}, /*slow=*/true);
    if (!r) return r.error();
    Say("pulled '%s': %s", o.model.c_str(), r->value("status", "done").c_str());
    return {};
  }
  return MakeError("Ollama at " + o.url.text + " has no model '" + o.model + "' (it has: " +
                   (have.empty() ? "none" : have) + "); set ollama_pull: true or ollama_modelfile: to get it");
}

int Unload(const Ollama& api, const Options& o) {
  Say("unloading '%s' from Ollama", o.model.c_str());
  if (auto r = api.Post("/api/generate", {{"model", o.model}, {"keep_alive", 0}}); !r) {
    Say("unload failed: %s", r.error().message.c_str());
    return 1;
  }
  // Ollama answers before its runner has exited; "stopped" must mean the memory is back.
  const auto until = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < until) {
    auto m = api.Loaded();
    if (m && m->is_null()) {
      Say("'%s' is unloaded", o.model.c_str());
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  Say("'%s' is still listed by /api/ps 30 s after its unload", o.model.c_str());
  return 1;
}

}  // namespace

int RunOllama(const Options& o, HealthServer& health) {
  const Ollama api(o);
  auto fail = [&](const Error& e) {
    Say("error: %s", e.message.c_str());
    return kExitStartFailed;
  };
  health.Set(503, PhaseBody(o, "waiting_for_ollama"));
  if (auto st = WaitForDaemon(api, o); !st.ok()) return fail(st.error());
  if (auto st = EnsurePresent(api, o, health); !st.ok()) return fail(st.error());
  if (g_stop) return 0;
  health.Set(503, PhaseBody(o, "loading"));

  Say("loading '%s' (keep_alive %s, renewed while kittyd keeps it)", o.model.c_str(), KeepAlive(o.lease_seconds).c_str());
  const auto t0 = Clock::now();
  if (auto r = api.Post("/api/generate", {{"model", o.model}, {"keep_alive", KeepAlive(o.lease_seconds)}}, true); !r)
    return fail(r.error());
  auto loaded = api.Loaded();
  if (!loaded) return fail(loaded.error());
  if (loaded->is_null()) return fail(MakeError("Ollama answered the load of '" + o.model + "' but /api/ps does not list it"));
  Say("loaded '%s' in %.3f s: size %lld bytes, %lld in VRAM", o.model.c_str(),
      std::chrono::duration<double>(Clock::now() - t0).count(), static_cast<long long>(loaded->value("size", 0LL)),
      static_cast<long long>(loaded->value("size_vram", 0LL)));
  health.Set(200, ReadyBody(o, *loaded));

  auto renewed = Clock::now();
  auto last_answer = Clock::now();
  while (!SleepOrStop(o.poll_seconds)) {
    auto m = api.Loaded();
    if (!m) {
      if (Clock::now() - last_answer >= std::chrono::duration<double>(o.gone_seconds)) {
        Say("error: Ollama stopped answering for %.0f s: %s", o.gone_seconds, m.error().message.c_str());
        return kExitUpstreamGone;
      }
      continue;
    }
    last_answer = Clock::now();
    if (m->is_null()) {
      Say("Ollama unloaded '%s' on its own (its keep_alive or its scheduler)", o.model.c_str());
      return kExitEvicted;
    }
    health.Set(200, ReadyBody(o, *m));
    // Renew at a third of the lease: two renewals may fail before Ollama would let it go.
    if (Clock::now() - renewed >= std::chrono::duration<double>(o.lease_seconds / 3)) {
      if (auto r = api.Post("/api/generate", {{"model", o.model}, {"keep_alive", KeepAlive(o.lease_seconds)}}); r)
        renewed = Clock::now();
      else
        Say("warning: renewing the keep_alive failed: %s", r.error().message.c_str());
    }
  }
  health.Set(503, R"({"status":"stopping"})");
  return Unload(api, o);
}

}  // namespace kitty::agent
