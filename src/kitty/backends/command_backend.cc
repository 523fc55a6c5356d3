// The command backend: any OpenAI-compatible server started from an argv template.
#include <string>
#include <vector>

#include "kitty/backends/executable.h"
#include "kitty/backends/plan.h"

namespace kitty {
namespace {

Error LaunchInvalid(std::string message) { return MakeError(std::move(message), ErrorCode::kLaunchInvalid); }

// The value of a launch placeholder for `m`, or nullopt when the config does not give one.
std::optional<std::string> PlaceholderValue(std::string_view name, const ModelConfig& m, int port) {
  if (name == "PORT") return std::to_string(port);
  if (name == "HOST") return m.host;
  if (name == "MODEL_ID") return m.id;
  if (name == "MODEL_PATH") return m.model_path.empty() ? std::nullopt : std::optional(m.model_path);
  if (name == "THREADS") return m.threads ? std::optional(std::to_string(*m.threads)) : std::nullopt;
  if (name == "CTX") return m.ctx ? std::optional(std::to_string(*m.ctx)) : std::nullopt;
  return std::nullopt;
}

const char* ConfigKeyOf(std::string_view name) {
  if (name == "MODEL_PATH") return "model_path";
  if (name == "THREADS") return "threads";
  if (name == "CTX") return "ctx";
  return "?";
}

}  // namespace

Result<std::string> ExpandLaunchPlaceholders(std::string_view s, const ModelConfig& m, int port) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t open = s.find("${", i);
    if (open == std::string_view::npos) break;
    size_t close = s.find('}', open + 2);
    if (close == std::string_view::npos) break;
    std::string_view inner = s.substr(open + 2, close - open - 2);
    size_t sep = inner.find(":-");
    std::string_view name = inner.substr(0, sep);
    out.append(s.substr(i, open - i));
    if (!IsLaunchPlaceholder(name)) {
      out.append(s.substr(open, close + 1 - open));  // not ours: the loader already expanded env
    } else if (auto v = PlaceholderValue(name, m, port)) {
      out += *v;
    } else if (sep != std::string_view::npos) {
      out.append(inner.substr(sep + 2));
    } else {
      return LaunchInvalid("command uses ${" + std::string(name) + "} but model '" + m.id + "' sets no " +
                           ConfigKeyOf(name));
    }
    i = close + 1;
  }
  out.append(s.substr(i));
  return out;
}

Result<LaunchPlan> PlanCommand(const ModelConfig& m, int port, const EnvLookup& env) {
  if (m.command.empty()) return LaunchInvalid("model '" + m.id + "' has no command");
  LaunchPlan plan;
  std::vector<std::string> argv;
  for (const auto& item : m.command) {
    auto expanded = ExpandLaunchPlaceholders(item, m, port);
    if (!expanded.ok()) return expanded.error();
    argv.push_back(std::move(expanded).value());
  }
  for (const auto& [k, v] : m.env) {
    auto expanded = ExpandLaunchPlaceholders(v, m, port);
    if (!expanded.ok()) return expanded.error();
    plan.spawn.env[k] = std::move(expanded).value();
  }
  if (m.shell) {
    // Joined with spaces and handed to the shell as written: quoting is the config's job.
    std::string joined;
    for (const auto& a : argv) joined += (joined.empty() ? "" : " ") + a;
    plan.spawn.argv = {"/bin/sh", "-c", joined};
  } else {
    const std::string& prog = argv[0];
    if (prog.empty()) return LaunchInvalid("model '" + m.id + "': command[0] is empty");
    if (prog.find('/') != std::string::npos) {
      // Relative paths are exec'd after the chdir into cwd, so check them from there.
      std::string at = (prog[0] != '/' && !m.cwd.empty()) ? m.cwd + "/" + prog : prog;
      if (Status st = CheckExecutable(at); !st.ok())
        return LaunchInvalid("command '" + at + "' " + st.error().message);
    } else {
      // The spawner searches the worker's PATH when the config sets one, else kittyd's.
      std::optional<std::string> path;
      if (auto it = plan.spawn.env.find("PATH"); it != plan.spawn.env.end()) path = it->second;
      else path = env("PATH");
      if (!path || path->empty())
        return LaunchInvalid("command '" + prog + "' not found: $PATH is not set");
      if (auto found = FindInPath(prog, *path); !found.ok())
        return LaunchInvalid("command '" + prog + "' not found: " + found.error().message);
    }
    plan.spawn.argv = std::move(argv);
  }
  plan.spawn.cwd = m.cwd;
  plan.host = m.host;
  plan.port = port;
  plan.health_path = m.health_path.empty() ? "/health" : m.health_path;
  plan.shutdown_path = m.shutdown_path;
  return plan;
}

}  // namespace kitty
