#include "kitty/config/ollama_section.h"

#include "kitty/base/http_url.h"

namespace kitty {

const std::vector<std::string_view>& OllamaKeys() {
  static const std::vector<std::string_view> kKeys = {
      "url",  "manage", "bin", "start_command", "shell", "env", "health_interval_seconds", "unhealthy_seconds",
      "down_seconds", "max_restarts_per_hour", "start_timeout_seconds"};
  return kKeys;
}

std::string CheckHttpUrl(const std::string& url) {
  if (url.rfind("https://", 0) == 0)
    return "https:// is not supported yet (kittyd speaks plain HTTP to upstreams); put a TLS-terminating "
           "proxy on loopback, got \"" + url + "\"";
  if (auto u = ParseHttpUrl(url); !u) return u.error().message;
  return {};
}

void LoadOllamaSection(YamlReader& r, const YAML::Node& n, OllamaConfig& o) {
  o.configured = true;
  if (!n.IsMap()) {
    r.Error(n, "ollama", "expected a map, got " + YamlReader::Describe(n));
    return;
  }
  ForEachEntry(r, n, "ollama", [&](const YAML::Node& k, const YAML::Node& v, const std::string& name) {
    const std::string key = "ollama." + name;
    if (name == "url") {
      if (auto s = r.String(v, key)) {
        if (auto bad = CheckHttpUrl(*s); !bad.empty()) r.Error(v, key, bad);
        else o.url = *s;
      }
    } else if (name == "manage") {
      Set(o.manage, r.Bool(v, key));
    } else if (name == "bin") {
      Set(o.bin, r.Path(v, key));
    } else if (name == "start_command") {
      if (!v.IsScalar()) return Set(o.start_command, r.StringList(v, key));
      if (auto s = r.String(v, key)) o.start_command = {*s};
    } else if (name == "shell") {
      Set(o.shell, r.Bool(v, key));
    } else if (name == "env") {
      Set(o.env, r.StringMap(v, key));
    } else if (name == "health_interval_seconds") {
      Set(o.health_interval_seconds, r.Seconds(v, key, /*positive=*/true));
    } else if (name == "unhealthy_seconds") {
      Set(o.unhealthy_seconds, r.Seconds(v, key, true));
    } else if (name == "down_seconds") {
      Set(o.down_seconds, r.Seconds(v, key, true));
    } else if (name == "max_restarts_per_hour") {
      if (auto x = r.Int(v, key, 0, 1000)) o.max_restarts_per_hour = static_cast<int>(*x);
    } else if (name == "start_timeout_seconds") {
      Set(o.start_timeout_seconds, r.Seconds(v, key, true));
    } else {
      r.Error(k, key, UnknownKeyMessage(name, OllamaKeys()));
    }
  });
  if (o.down_seconds < o.unhealthy_seconds)
    r.Error(n, "ollama.down_seconds", "must not be below unhealthy_seconds");
  if (o.start_command.size() > 1 && o.shell)
    r.Error(n, "ollama.start_command", "with shell: true give the command as one string");
}

}  // namespace kitty
