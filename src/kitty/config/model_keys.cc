#include "kitty/config/model_keys.h"

#include <algorithm>
#include <cstdint>

#include "kitty/config/config_loader.h"
#include "kitty/config/ollama_section.h"
#include "kitty/config/suggest.h"
#include "kitty/config/value_parse.h"
#include "kitty/config/yaml_reader.h"

namespace kitty {
namespace {

ModelKeyFn IntKey(std::optional<int> ModelConfig::*field, int64_t min) {
  return [field, min](YamlReader& r, ModelDraft& d, const YAML::Node& v, const std::string& key) {
    if (auto n = r.Int(v, key, min, INT32_MAX)) d.m.*field = static_cast<int>(*n);
  };
}
ModelKeyFn StringKey(std::string ModelConfig::*field) {
  return [field](YamlReader& r, ModelDraft& d, const YAML::Node& v, const std::string& key) {
    Set(d.m.*field, r.String(v, key));
  };
}
ModelKeyFn PathKey(std::string ModelConfig::*field) {
  return [field](YamlReader& r, ModelDraft& d, const YAML::Node& v, const std::string& key) {
    Set(d.m.*field, r.Path(v, key));
  };
}
ModelKeyFn UrlPathKey(std::string ModelConfig::*field) {
  return [field](YamlReader& r, ModelDraft& d, const YAML::Node& v, const std::string& key) {
    auto s = r.String(v, key);
    if (!s) return;
    if (!s->empty() && (*s)[0] != '/') {
      r.Error(v, key, "must start with '/', got \"" + *s + "\"");
      return;
    }
    d.m.*field = *s;
  };
}
ModelKeyFn HttpUrlKey(std::string ModelConfig::*field) {
  return [field](YamlReader& r, ModelDraft& d, const YAML::Node& v, const std::string& key) {
    auto s = r.String(v, key);
    if (!s) return;
    if (auto bad = CheckHttpUrl(*s); !bad.empty()) return r.Error(v, key, bad);
    d.m.*field = *s;
  };
}

ModelKeyFn BoolKey(bool ModelConfig::*field) {
  return [field](YamlReader& r, ModelDraft& d, const YAML::Node& v, const std::string& key) {
    Set(d.m.*field, r.Bool(v, key));
  };
}
ModelKeyFn SecondsKey(double ModelConfig::*field, bool positive = false) {
  return [field, positive](YamlReader& r, ModelDraft& d, const YAML::Node& v, const std::string& key) {
    Set(d.m.*field, r.Seconds(v, key, positive));
  };
}

// The keys a downgrade rung may override: those that size a worker's memory.
const std::vector<std::string_view> kRungKeys = {"ngl",        "ctx",    "batch",     "ubatch", "parallel",
                                                 "flash_attn", "threads", "extra_args", "memory"};

void ReadRung(YamlReader& r, ModelRung& rung, const YAML::Node& v, const std::string& key) {
  if (!v.IsMap() || v.size() == 0) {
    r.Error(v, key, "expected a map of overrides like {ngl: 0, ctx: 4096}, got " + YamlReader::Describe(v));
    return;
  }
  YAML::Emitter text;
  text << YAML::Flow << v;
  rung.text = text.c_str();
  // Each key is read by the model key of the same name, into a scratch model.
  ModelDraft scratch;
  ForEachEntry(r, v, key, [&](const YAML::Node& k, const YAML::Node& x, const std::string& name) {
    if (std::find(kRungKeys.begin(), kRungKeys.end(), name) == kRungKeys.end()) {
      r.Error(k, key + "." + name, UnknownKeyMessage(name, kRungKeys));
      return;
    }
    for (const auto& mk : ModelKeyTable())
      if (mk.name == name) mk.apply(r, scratch, x, key + "." + name);
    const ModelConfig& m = scratch.m;
    if (name == "ngl") rung.ngl = m.ngl;
    else if (name == "ctx") rung.ctx = m.ctx;
    else if (name == "batch") rung.batch = m.batch;
    else if (name == "ubatch") rung.ubatch = m.ubatch;
    else if (name == "parallel") rung.parallel = m.parallel;
    else if (name == "threads") rung.threads = m.threads;
    else if (name == "flash_attn") rung.flash_attn = m.flash_attn;
    else if (name == "memory") rung.memory_bytes = m.memory_bytes;
    else if (name == "extra_args") rung.extra_args = m.extra_args;
  });
}

std::optional<Backend> ParseBackend(std::string_view s) {
  if (s == "llama_server" || s == "llama_worker" || s == "llama-server") return Backend::kLlamaServer;
  if (s == "command") return Backend::kCommand;
  if (s == "ollama") return Backend::kOllama;
  if (s == "remote") return Backend::kRemote;
  if (s == "mlx" || s == "mlx_lm") return Backend::kMlx;
  return std::nullopt;
}

}  // namespace

const std::vector<ModelKey>& ModelKeyTable() {
  static const std::vector<ModelKey> kKeys = {
      {"backend",
       [](YamlReader& r, ModelDraft& d, const YAML::Node& v, const std::string& key) {
         auto s = r.Scalar(v, key, "a backend name");
         if (!s) return;
         if (auto b = ParseBackend(*s)) {
           d.m.backend = *b;
           return;
         }
         std::string msg = "unknown backend '" + *s + "' (valid: llama_server, llama_worker, command, ollama, remote, mlx)";
         std::string near = NearestWord(*s, {"llama_server", "llama_worker", "command", "ollama", "remote", "mlx"});
         if (!near.empty()) msg += "; did you mean '" + near + "'?";
         r.Error(v, key, msg);
       }},
      {"model_path", PathKey(&ModelConfig::model_path)},
      {"host",
       [](YamlReader& r, ModelDraft& d, const YAML::Node& v, const std::string& key) {
         auto s = r.String(v, key);
         if (s && s->empty()) r.Error(v, key, "must not be empty");
         else Set(d.m.host, std::move(s));
       }},
      {"port",
       [](YamlReader& r, ModelDraft& d, const YAML::Node& v, const std::string& key) {
         auto s = r.Scalar(v, key, "an integer or \"auto\"");
         if (!s) return;
         if (*s == "auto") {
           d.m.port = 0;
           return;
         }
         auto n = ParseInteger(*s);
         if (!n.ok()) {
           r.Error(v, key, "expected an integer or \"auto\", got \"" + *s + "\"");
         } else if (*n < 1 || *n > 65535) {
           r.Error(v, key, "port " + std::to_string(*n) + " is outside 1..65535 (use \"auto\" for a free port)");
         } else {
           d.m.port = static_cast<int>(*n);
         }
       }},
      // -1 is llama-server's "auto" for threads.
      {"threads", IntKey(&ModelConfig::threads, -1)},
      {"ngl", IntKey(&ModelConfig::ngl, -1)},
      {"ctx", IntKey(&ModelConfig::ctx, 0)},
      {"batch", IntKey(&ModelConfig::batch, 1)},
      {"ubatch", IntKey(&ModelConfig::ubatch, 1)},
      {"parallel", IntKey(&ModelConfig::parallel, 1)},
      {"flash_attn",
       [](YamlReader& r, ModelDraft& d, const YAML::Node& v, const std::string& key) {
         auto s = r.Scalar(v, key, "true, false, \"on\", \"off\" or \"auto\"");
         if (!s) return;
         if (*s == "auto") {
           d.m.flash_attn.reset();
           return;
         }
         auto b = ParseBool(*s);
         if (!b.ok())
           r.Error(v, key, "expected true, false, \"on\", \"off\" or \"auto\", got \"" + *s + "\"");
         else
           d.m.flash_attn = *b;
       }},
      {"jinja", BoolKey(&ModelConfig::jinja)},
      {"mmproj", PathKey(&ModelConfig::mmproj)},
      {"alias", StringKey(&ModelConfig::alias)},
      {"aliases",
       [](YamlReader& r, ModelDraft& d, const YAML::Node& v, const std::string& key) {
         Set(d.m.aliases, r.StringList(v, key));
       }},
      {"extra_args",
       [](YamlReader& r, ModelDraft& d, const YAML::Node& v, const std::string& key) {
         Set(d.m.extra_args, r.StringList(v, key));
       }},
      {"env",
       [](YamlReader& r, ModelDraft& d, const YAML::Node& v, const std::string& key) {
         // Merged over the defaults' env: a model adds or overrides variables.
         if (auto env = r.StringMap(v, key))
           for (auto& [k, val] : *env) d.m.env[k] = val;
       }},
      {"cwd", PathKey(&ModelConfig::cwd)},
      {"command",
       [](YamlReader& r, ModelDraft& d, const YAML::Node& v, const std::string& key) {
         if (v.IsScalar()) {
           if (auto s = r.String(v, key)) {
             d.m.command = {*s};
             d.command_is_string = true;
           }
           return;
         }
         d.command_is_string = false;
         Set(d.m.command, r.StringList(v, key));
       }},
      {"shell", BoolKey(&ModelConfig::shell)},
      {"health_path", UrlPathKey(&ModelConfig::health_path)},
      {"shutdown_path", UrlPathKey(&ModelConfig::shutdown_path)},
      {"memory",
       [](YamlReader& r, ModelDraft& d, const YAML::Node& v, const std::string& key) {
         auto s = r.Scalar(v, key, "a size such as 8GiB");
         if (!s) return;
         auto b = ParseByteSize(*s);
         if (!b.ok()) r.Error(v, key, b.error().message);
         else if (*b == 0) r.Error(v, key, "must be more than 0 (leave it out when unknown)");
         else d.m.memory_bytes = *b;
       }},
      {"pinned", BoolKey(&ModelConfig::pinned)},
      {"pressure_evict_only", BoolKey(&ModelConfig::pressure_evict_only)},
      {"priority",
       [](YamlReader& r, ModelDraft& d, const YAML::Node& v, const std::string& key) {
         if (auto n = r.Int(v, key, -1000, 1000)) d.m.priority = static_cast<int>(*n);
       }},
      {"idle_shutdown_seconds", SecondsKey(&ModelConfig::idle_shutdown_seconds)},
      {"stop_timeout_seconds", SecondsKey(&ModelConfig::stop_timeout_seconds)},
      {"start_timeout_seconds", SecondsKey(&ModelConfig::start_timeout_seconds, /*positive=*/true)},
      {"preload", BoolKey(&ModelConfig::preload)},
      {"restart",
       [](YamlReader& r, ModelDraft& d, const YAML::Node& v, const std::string& key) {
         auto s = r.String(v, key);
         if (!s) return;
         if (*s == "never") d.m.restart = ModelConfig::Restart::kNever;
         else if (*s == "on-crash") d.m.restart = ModelConfig::Restart::kOnCrash;
         else if (*s == "always") d.m.restart = ModelConfig::Restart::kAlways;
         else r.Error(v, key, "expected never, on-crash or always, got \"" + *s + "\"");
       }},
      {"liveness",
       [](YamlReader& r, ModelDraft& d, const YAML::Node& v, const std::string& key) {
         if (!v.IsMap()) {
           r.Error(v, key, "expected a map like {interval_seconds: 10, failures: 3}, got " +
                               YamlReader::Describe(v));
           return;
         }
         ForEachEntry(r, v, key, [&](const YAML::Node& k, const YAML::Node& x, const std::string& name) {
           const std::string sub = key + "." + name;
           if (name == "interval_seconds") {
             if (auto s = r.Seconds(x, sub)) d.m.liveness_interval_seconds = *s;
           } else if (name == "failures") {
             if (auto n = r.Int(x, sub, 1, 100)) d.m.liveness_failures = static_cast<int>(*n);
           } else {
             r.Error(k, sub, UnknownKeyMessage(name, {"interval_seconds", "failures"}));
           }
         });
       }},
      {"busy_timeout_seconds", SecondsKey(&ModelConfig::busy_timeout_seconds)},
      {"fallback",
       [](YamlReader& r, ModelDraft& d, const YAML::Node& v, const std::string& key) {
         // One name or a list; the loader checks that each names another model.
         if (!v.IsScalar()) return Set(d.m.fallback, r.StringList(v, key));
         if (auto s = r.String(v, key)) d.m.fallback = {*s};
       }},
      {"downgrade",
       [](YamlReader& r, ModelDraft& d, const YAML::Node& v, const std::string& key) {
         if (!v.IsSequence()) {
           r.Error(v, key, "expected a list of overrides like [{ngl: 40}, {ngl: 0, ctx: 4096}], got " +
                               YamlReader::Describe(v));
           return;
         }
         d.m.downgrade.clear();
         for (size_t i = 0; i < v.size(); ++i) {
           ModelRung rung;
           ReadRung(r, rung, v[i], key + "[" + std::to_string(i) + "]");
           d.m.downgrade.push_back(std::move(rung));
         }
       }},
      {"max_restarts",
       [](YamlReader& r, ModelDraft& d, const YAML::Node& v, const std::string& key) {
         if (auto n = r.Int(v, key, 0, 1000)) d.m.max_restarts = static_cast<int>(*n);
       }},
      {"llama_server_bin", PathKey(&ModelConfig::llama_server_bin)},
      {"mlx_server_bin", PathKey(&ModelConfig::mlx_server_bin)},
      {"ollama_model", StringKey(&ModelConfig::ollama_model)},
      {"ollama_url", HttpUrlKey(&ModelConfig::ollama_url)},
      {"ollama_pull", BoolKey(&ModelConfig::ollama_pull)},
      {"ollama_modelfile", PathKey(&ModelConfig::ollama_modelfile)},
      {"remote_url", HttpUrlKey(&ModelConfig::remote_url)},
      {"remote_model", StringKey(&ModelConfig::remote_model)},
      {"remote_api_key_env",
       [](YamlReader& r, ModelDraft& d, const YAML::Node& v, const std::string& key) {
         // The name of a variable, never the key: a config file is no place for a secret.
         auto s = r.String(v, key);
         if (!s) return;
         if (s->empty() || s->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
                               std::string::npos)
           return r.Error(v, key, "expected the name of an environment variable (such as OPENAI_API_KEY), not the key itself");
         d.m.remote_api_key_env = *s;
       }},
  };
  return kKeys;
}

const std::vector<std::string_view>& ModelKeys() {
  static const std::vector<std::string_view> kNames = [] {
    std::vector<std::string_view> names;
    for (const auto& k : ModelKeyTable()) names.push_back(k.name);
    return names;
  }();
  return kNames;
}

}  // namespace kitty
