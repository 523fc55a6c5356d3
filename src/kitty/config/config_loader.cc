#include "kitty/config/config_loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>

#include "kitty/config/config_file.h"
#include "kitty/config/model_keys.h"
#include "kitty/config/ollama_section.h"
#include "kitty/config/suggest.h"
#include "kitty/config/value_parse.h"
#include "kitty/config/yaml_document.h"
#include "kitty/base/bytes.h"
#include "kitty/config/memory_section.h"
#include "kitty/config/ollama_section.h"
#include "kitty/config/yaml_reader.h"

namespace kitty {
namespace {

const std::vector<std::string_view> kSections = {"server", "memory", "ollama", "defaults", "models"};

// Upper bounds of the server's connection keys. A day is far past any sane deadline for a
// header, a MiB of body or an idle connection: a larger value is a typo (extra zeros) that
// would quietly turn the protection off. The counts are far above what one machine's fds and
// cores allow.
constexpr int kMaxTimeoutSeconds = 86400;
constexpr int64_t kMaxConnections = 1'000'000;
constexpr int64_t kMaxIoThreads = 1024;

// server.*_seconds: > 0 (0 would mean "no deadline", which these keys exist to prevent).
std::optional<double> Timeout(YamlReader& r, const YAML::Node& v, const std::string& key) {
  auto s = r.Seconds(v, key, /*positive=*/true);
  if (s && *s > kMaxTimeoutSeconds) {
    r.Error(v, key, "must be at most " + std::to_string(kMaxTimeoutSeconds) + " (a day), got " + v.Scalar());
    return std::nullopt;
  }
  return s;
}

bool Contains(const std::vector<std::string_view>& v, std::string_view s) {
  for (auto x : v)
    if (x == s) return true;
  return false;
}

class Loader {
 public:
  Loader(std::string file, EnvLookup env, ConfigOverrides overrides)
      : r_(std::move(file), std::move(env)), overrides_(std::move(overrides)) {}

  Result<Config> Load(std::string_view text);

 private:
  void LoadServer(const YAML::Node& n);
  void SetListen(const HostPort& hp, std::string source);
  void ApplyOverrides();
  void LoadModelKeys(const YAML::Node& n, const std::string& path, ModelDraft& d);
  void LoadModels(const YAML::Node& n);
  void CheckModel(const ModelDraft& d);
  void CheckCrossModel();
  void CheckFallbacks();
  void ApplyDirDefaults();

  YamlReader r_;
  ConfigOverrides overrides_;
  Config config_;
  ModelDraft defaults_;
  std::vector<ModelDraft> drafts_;
  std::string server_port_source_;  // where kittyd's port was set ("server at kitty.yaml:2"); "" = default
};

Result<Config> Loader::Load(std::string_view text) {
  config_.path = r_.file();
  YAML::Node server, memory, ollama, defaults, models;
  bool has_ollama = false;  // `ollama:` with no value still asks for the daemon's watch
  if (std::optional<YAML::Node> root = ParseOneDocument(text, r_); !root) {
    // The error is recorded; flags are still checked below, so every problem shows at once.
  } else if (!root->IsNull() && !root->IsMap()) {
    r_.Error(*root, "", "expected a map with sections server, defaults, models; got " + YamlReader::Describe(*root));
  } else if (root->IsMap()) {
    ForEachEntry(r_, *root, "", [&](const YAML::Node& k, const YAML::Node& v, const std::string& name) {
      if (name == "server") {
        server = v;
      } else if (name == "memory") {
        memory = v;
      } else if (name == "ollama") {
        ollama = v;
        has_ollama = true;
      } else if (name == "defaults") {
        defaults = v;
      } else if (name == "models") {
        models = v;
      } else {
        std::string msg = "unknown section (valid: server, memory, ollama, defaults, models)";
        std::string near = NearestWord(name, kSections);
        if (!near.empty()) msg += "; did you mean '" + near + "'?";
        else if (Contains(ModelKeys(), name)) msg += "; model keys go under defaults: or models.<id>:";
        r_.Error(k, name, msg);
      }
    });
  }
  if (server.IsDefined() && !server.IsNull()) LoadServer(server);
  if (memory.IsDefined() && !memory.IsNull()) LoadMemorySection(r_, memory, config_.memory);
  if (has_ollama) LoadOllamaSection(r_, ollama.IsNull() ? YAML::Node(YAML::NodeType::Map) : ollama, config_.ollama);
  ApplyOverrides();
  // Defaults first: models inherit them wherever the sections appear in the file.
  if (defaults.IsDefined() && !defaults.IsNull()) {
    if (!defaults.IsMap())
      r_.Error(defaults, "defaults", "expected a map of model keys, got " + YamlReader::Describe(defaults));
    else
      LoadModelKeys(defaults, "defaults", defaults_);
  }
  if (models.IsDefined() && !models.IsNull()) LoadModels(models);
  CheckCrossModel();
  CheckFallbacks();
  ApplyDirDefaults();
  if (!r_.errors().empty()) {
    std::string joined;
    for (const auto& e : r_.errors()) joined += (joined.empty() ? "" : "\n") + e;
    return MakeError(joined, ErrorCode::kConfigInvalid);
  }
  for (auto& d : drafts_) config_.models.push_back(std::move(d.m));
  return std::move(config_);
}

void Loader::LoadServer(const YAML::Node& n) {
  if (!n.IsMap()) {
    r_.Error(n, "server", "expected a map, got " + YamlReader::Describe(n));
    return;
  }
  ServerConfig& s = config_.server;
  int listen_line = 0, host_port_line = 0;
  ForEachEntry(r_, n, "server", [&](const YAML::Node& k, const YAML::Node& v, const std::string& name) {
    std::string key = "server." + name;
    if (name == "listen") {
      listen_line = YamlReader::Line(k);
      auto str = r_.Scalar(v, key, "\"host:port\"");
      if (!str) return;
      auto hp = ParseListen(*str);
      if (!hp.ok()) r_.Error(v, key, hp.error().message);
      else SetListen(*hp, "server at " + r_.Where(listen_line));
    } else if (name == "host") {
      host_port_line = YamlReader::Line(k);
      Set(s.host, r_.String(v, key));
    } else if (name == "port") {
      host_port_line = YamlReader::Line(k);
      if (auto p = r_.Int(v, key, 1, 65535)) {
        s.port = static_cast<int>(*p);
        server_port_source_ = "server at " + r_.Where(host_port_line);
      }
    } else if (name == "api_keys") {
      Set(s.api_keys, r_.StringList(v, key));
    } else if (name == "admin_keys") {
      Set(s.admin_keys, r_.StringList(v, key));
    } else if (name == "max_body_bytes") {
      auto str = r_.Scalar(v, key, "a byte size");
      if (!str) return;
      auto b = ParseByteSize(*str);
      if (!b.ok()) r_.Error(v, key, b.error().message);
      else if (*b == 0) r_.Error(v, key, "must be greater than 0");
      else s.max_body_bytes = *b;
    } else if (name == "log_bodies") {
      Set(s.log_bodies, r_.Bool(v, key));
    } else if (name == "open_metrics") {
      Set(s.open_metrics, r_.Bool(v, key));
    } else if (name == "auto_ports") {
      if (v.IsSequence()) {
        if (v.size() != 2) {
          r_.Error(v, key, "expected [first, last], got a list of " + std::to_string(v.size()));
          return;
        }
        auto a = r_.Int(v[0], key + "[0]", 1, 65535);
        auto b = r_.Int(v[1], key + "[1]", 1, 65535);
        if (!a || !b) return;
        PortRange pr{static_cast<int>(*a), static_cast<int>(*b)};
        if (auto st = CheckPortRange(pr); !st.ok()) r_.Error(v, key, st.error().message);
        else s.auto_ports = pr;
        return;
      }
      auto str = r_.Scalar(v, key, "a port range such as \"41000-41999\" or [41000, 41999]");
      if (!str) return;
      auto pr = ParsePortRange(*str);
      if (!pr.ok()) r_.Error(v, key, pr.error().message);
      else s.auto_ports = *pr;
    } else if (name == "logs_dir") {
      Set(s.logs_dir, r_.Path(v, key));
    } else if (name == "state_dir") {
      Set(s.state_dir, r_.Path(v, key));
    } else if (name == "header_timeout_seconds") {
      Set(s.header_timeout_seconds, Timeout(r_, v, key));
    } else if (name == "body_timeout_seconds") {
      Set(s.body_timeout_seconds, Timeout(r_, v, key));
    } else if (name == "keep_alive_seconds") {
      Set(s.keep_alive_seconds, Timeout(r_, v, key));
    } else if (name == "max_connections") {
      if (auto n = r_.Int(v, key, 1, kMaxConnections)) s.max_connections = static_cast<int>(*n);
    } else if (name == "io_threads") {
      if (auto n = r_.Int(v, key, 0, kMaxIoThreads)) s.io_threads = static_cast<int>(*n);
    } else {
      std::string msg = UnknownKeyMessage(name, ServerKeys());
      if (msg == "unknown key" && Contains(ModelKeys(), name))
        msg += " (a model key: put it under defaults: or models.<id>:)";
      r_.Error(k, key, msg);
    }
  });
  if (listen_line > 0 && host_port_line > 0)
    r_.Error(host_port_line, "server", "set either listen or host/port, not both (listen is at " +
                                           r_.Where(listen_line) + ")");
}

// server.listen's parser has one caller per source: the file's key and kittyd's --listen.
void Loader::SetListen(const HostPort& hp, std::string source) {
  config_.server.host = hp.host;
  config_.server.port = hp.port;
  server_port_source_ = std::move(source);
}

void Loader::ApplyOverrides() {
  if (!overrides_.listen.empty()) {
    auto hp = ParseListen(overrides_.listen);
    if (!hp.ok()) r_.ErrorAt("--listen", "", hp.error().message);
    else SetListen(*hp, "--listen");
  }
}

void Loader::LoadModelKeys(const YAML::Node& n, const std::string& path, ModelDraft& d) {
  ForEachEntry(r_, n, path, [&](const YAML::Node& k, const YAML::Node& v, const std::string& name) {
    std::string key = path + "." + name;
    for (const auto& mk : ModelKeyTable()) {
      if (mk.name == name) {
        size_t before = r_.errors().size();
        mk.apply(r_, d, v, key);
        if (r_.errors().size() == before) d.key_lines[name] = YamlReader::Line(k);
        return;
      }
    }
    std::string msg = UnknownKeyMessage(name, ModelKeys());
    if (msg == "unknown key" && Contains(ServerKeys(), name)) msg += " (a server key: put it under server:)";
    r_.Error(k, key, msg);
  });
}

bool ValidModelId(const std::string& id) {
  for (char c : id)
    if (c == '/' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
  return true;
}

void Loader::LoadModels(const YAML::Node& n) {
  if (!n.IsMap()) {
    r_.Error(n, "models", "expected a map of model id → settings, got " + YamlReader::Describe(n));
    return;
  }
  ForEachEntry(r_, n, "models", [&](const YAML::Node& k, const YAML::Node& v, const std::string& id) {
    std::string path = "models." + id;
    if (!ValidModelId(id)) {
      r_.Error(k, path, "model ids may not contain '/', spaces or control characters");
      return;
    }
    if (!v.IsMap()) {
      r_.Error(v.IsNull() ? k : v, path,
               "expected a map of model keys (backend, model_path, ...), got " + YamlReader::Describe(v));
      return;
    }
    ModelDraft d = defaults_;
    d.m.id = id;
    d.m.mark = SourceMark{r_.file(), YamlReader::Line(k)};
    LoadModelKeys(v, path, d);
    // mlx_lm.server has no /health in every version: its model list answers once it is loaded.
    if (d.m.backend == Backend::kMlx && !d.key_lines.count("health_path")) d.m.health_path = "/v1/models";
    CheckModel(d);
    // `alias` (llama-server's --alias) routes too; keep `aliases` the full list of extra names.
    if (!d.m.alias.empty() && d.m.alias != id &&
        std::find(d.m.aliases.begin(), d.m.aliases.end(), d.m.alias) == d.m.aliases.end())
      d.m.aliases.push_back(d.m.alias);
    drafts_.push_back(std::move(d));
  });
}

void Loader::CheckModel(const ModelDraft& d) {
  const ModelConfig& m = d.m;
  std::string path = "models." + m.id;
  int line = m.mark.line;
  switch (m.backend) {
    case Backend::kLlamaServer:
      if (m.model_path.empty())
        r_.Error(line, path + ".model_path", "required for backend llama_server (the seed's llama_worker)");
      break;
    case Backend::kCommand:
      if (m.command.empty())
        r_.Error(line, path + ".command",
                 "required for backend command (an argv list such as [my-server, --port, \"${PORT}\"])");
      else if (d.command_is_string && !m.shell)
        r_.Error(d.line_of("command"), path + ".command",
                 "a command given as one string needs shell: true; otherwise give a list of arguments");
      break;
    case Backend::kOllama:
      if (m.ollama_model.empty())
        r_.Error(line, path + ".ollama_model", "required for backend ollama (the model's name in Ollama)");
      if (!m.ollama_modelfile.empty() && m.ollama_pull)
        r_.Error(d.line_of("ollama_pull"), path + ".ollama_pull",
                 "set either ollama_pull or ollama_modelfile, not both");
      break;
    case Backend::kRemote:
      if (m.remote_url.empty())
        r_.Error(line, path + ".remote_url", "required for backend remote (an OpenAI-compatible server's base URL)");
      break;
    case Backend::kMlx:
      if (m.model_path.empty())
        r_.Error(line, path + ".model_path",
                 "required for backend mlx (a Hugging Face repo such as mlx-community/Qwen2.5-7B-Instruct-4bit, "
                 "or a local MLX model directory)");
      break;
  }
  for (size_t i = 0; i < m.aliases.size(); ++i)
    if (m.aliases[i].empty()) r_.Error(line, path + ".aliases", "an alias must not be empty");
  // A model that can never fit a fixed budget is a mistake to report now, not at its first
  // request. (A percentage or auto budget depends on the machine: kittyd checks at start.)
  const MemoryBudget& budget = config_.memory.budget;
  if (m.memory_bytes && budget.kind == MemoryBudget::Kind::kBytes && *m.memory_bytes > budget.bytes)
    r_.Error(d.line_of("memory"), path + ".memory",
             FormatBytes(*m.memory_bytes) + " can never fit memory.budget " + FormatBytes(budget.bytes));
}

void Loader::CheckCrossModel() {
  // Fixed ports: two workers cannot listen on one port, nor on kittyd's own.
  std::map<int, const ModelDraft*> by_port;
  for (const auto& d : drafts_) {
    if (d.m.port == 0 || d.m.backend == Backend::kOllama) continue;
    int line = d.line_of("port");
    std::string key = "models." + d.m.id + ".port";
    auto [it, fresh] = by_port.emplace(d.m.port, &d);
    if (!fresh) {
      const ModelDraft* other = it->second;
      int other_line = other->line_of("port");
      r_.Error(line, key,
               "port " + std::to_string(d.m.port) + " is also used by model '" + other->m.id + "' (" +
                   r_.Where(other_line) + ")");
    }
    if (d.m.port == config_.server.port)
      r_.Error(line, key,
               "port " + std::to_string(d.m.port) + " is kittyd's own listen port (" +
                   (server_port_source_.empty() ? "the default" : server_port_source_) + ")");
  }
  // Names the gateway routes: ids first, then aliases; each must pick one model.
  struct Owner {
    const ModelDraft* d;
    bool is_id;
  };
  std::map<std::string, Owner> names;
  for (const auto& d : drafts_) {
    auto [it, fresh] = names.emplace(d.m.id, Owner{&d, true});
    if (!fresh)
      r_.Error(d.m.mark.line, "models." + d.m.id,
               "duplicate model id (first defined at " + r_.Where(it->second.d->m.mark.line) + ")");
  }
  for (const auto& d : drafts_) {
    for (const auto& alias : d.m.aliases) {
      if (alias == d.m.id) continue;
      auto [it, fresh] = names.emplace(alias, Owner{&d, false});
      if (fresh || it->second.d == &d) continue;
      const ModelDraft* other = it->second.d;
      std::string key_name = d.key_lines.count("aliases") ? "aliases" : "alias";
      int line = d.line_of(key_name);
      std::string what = it->second.is_id ? "the id of model '" + other->m.id + "'"
                                          : "an alias of model '" + other->m.id + "'";
      int other_line = other->m.mark.line;
      if (!it->second.is_id) {
        for (const char* k : {"aliases", "alias"})
          if (other->key_lines.count(k)) other_line = other->key_lines.at(k);
      }
      r_.Error(line, "models." + d.m.id + "." + key_name,
               "alias '" + alias + "' is already " + what + " (" + r_.Where(other_line) + ")");
    }
  }
}

void Loader::CheckFallbacks() {
  // Each fallback names a model (by id or alias: kept as the id). Chains may loop: at run time
  // no model is tried twice for one request.
  std::map<std::string, std::string> id_of;
  for (const auto& d : drafts_) id_of.emplace(d.m.id, d.m.id);
  for (const auto& d : drafts_)
    for (const auto& a : d.m.aliases) id_of.emplace(a, d.m.id);
  for (auto& d : drafts_) {
    const int line = d.line_of("fallback");
    const std::string key = "models." + d.m.id + ".fallback";
    for (auto& f : d.m.fallback) {
      auto it = id_of.find(f);
      if (it == id_of.end()) {
        std::string list;
        for (const auto& o : drafts_) list += (list.empty() ? "" : ", ") + o.m.id;
        r_.Error(line, key, "unknown model '" + f + "' (models: " + list + ")");
      } else if (it->second == d.m.id) {
        r_.Error(line, key, "a model cannot fall back to itself ('" + f + "')");
      } else {
        f = it->second;
      }
    }
  }
}

void Loader::ApplyDirDefaults() {
  ServerConfig& s = config_.server;
  if (s.state_dir.empty()) {
    auto dir = DefaultStateDir(r_.env());
    if (!dir.ok()) {
      r_.Error(0, "server.state_dir", dir.error().message);
      return;
    }
    s.state_dir = *dir;
  }
  if (s.logs_dir.empty()) s.logs_dir = s.state_dir + "/logs";
}

}  // namespace

const std::vector<std::string_view>& ServerKeys() {
  static const std::vector<std::string_view> kNames = {
      "listen",     "host",       "port",     "api_keys",  "admin_keys", "max_body_bytes",
      "log_bodies", "open_metrics", "auto_ports", "logs_dir", "state_dir", "header_timeout_seconds",
      "body_timeout_seconds",     "keep_alive_seconds",    "max_connections",   "io_threads"};
  return kNames;
}

Result<std::string> DefaultStateDir(const EnvLookup& env) {
  if (auto v = env("KITTY_STATE_DIR"); v && !v->empty()) return ExpandHome(*v, env);
  if (auto v = env("XDG_STATE_HOME"); v && !v->empty()) return ExpandHome(*v + "/kitty", env);
  return ExpandHome("~/.local/state/kitty", env);
}

Result<Config> LoadConfigString(std::string_view yaml, const std::string& name, const EnvLookup& env,
                                const ConfigOverrides& overrides) {
  try {
    return Loader(name, env, overrides).Load(yaml);
  } catch (const std::exception& e) {
    // yaml-cpp may throw from node access on malformed input; report, never let it escape.
    return MakeError(name + ": cannot load config: " + e.what(), ErrorCode::kConfigInvalid);
  }
}

Result<Config> LoadConfigString(std::string_view yaml, const std::string& name, const ConfigOverrides& overrides) {
  return LoadConfigString(yaml, name, ProcessEnv(), overrides);
}

Result<Config> LoadConfigFile(const std::string& path, const ConfigOverrides& overrides) {
  auto text = ReadConfigFile(path);
  if (!text.ok()) return text.error();
  return LoadConfigString(text.value(), path, overrides);
}

}  // namespace kitty
