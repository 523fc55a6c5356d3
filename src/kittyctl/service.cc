#include "kittyctl/service.h"

#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "kittyctl/commands.h"

extern char** environ;

namespace kitty::ctl {
namespace {

#ifdef __APPLE__
constexpr ServiceSystem kThisSystem = ServiceSystem::kLaunchd;
#else
constexpr ServiceSystem kThisSystem = ServiceSystem::kSystemd;
#endif

// systemd splits ExecStart= on spaces and expands % and $: each argument is quoted, with those
// escaped (systemd.service(5), "Command lines"; systemd.unit(5), "Specifiers").
std::string SystemdArg(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '%') out += '%';
    if (c == '$') out += '$';
    out += c;
  }
  return out + "\"";
}

std::string XmlText(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<std::string> KittydArgv(const ServiceSpec& spec) {
  std::vector<std::string> argv = {spec.kittyd};
  if (!spec.config.empty()) {
    argv.push_back("--config");
    argv.push_back(spec.config);
  }
  return argv;
}

std::string Home() {
  const char* home = std::getenv("HOME");
  return home ? home : "";
}

std::string ServiceFile(ServiceSystem system) {
  if (system == ServiceSystem::kLaunchd)
    return Home() + "/Library/LaunchAgents/" + kLaunchdLabel + ".plist";
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  const std::string config = xdg && *xdg ? xdg : Home() + "/.config";
  return config + "/systemd/user/" + kSystemdUnit;
}

std::string Absolute(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf)) return buf;
  if (!path.empty() && path[0] == '/') return path;
  char cwd[PATH_MAX];
  return getcwd(cwd, sizeof cwd) ? std::string(cwd) + "/" + path : path;
}

// Runs a program (no shell between us and it) and returns its exit status; -1 when it could not
// be started (e.g. systemctl is not installed).
int Run(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool MakeDirs(const std::string& dir) {
  std::string at;
  std::stringstream parts(dir);
  std::string part;
  while (std::getline(parts, part, '/')) {
    if (part.empty()) continue;
    at += "/" + part;
    if (mkdir(at.c_str(), 0755) != 0 && errno != EEXIST) return false;
  }
  return true;
}

std::vector<std::string> LoadCommand(ServiceSystem system, const std::string& file) {
  if (system == ServiceSystem::kLaunchd)
    return {"launchctl", "bootstrap", "gui/" + std::to_string(getuid()), file};
  return {"systemctl", "--user", "enable", "--now", kSystemdUnit};
}

std::vector<std::string> UnloadCommand(ServiceSystem system) {
  if (system == ServiceSystem::kLaunchd)
    return {"launchctl", "bootout", "gui/" + std::to_string(getuid()) + "/" + kLaunchdLabel};
  return {"systemctl", "--user", "disable", "--now", kSystemdUnit};
}

std::string Joined(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

int Install(const ServiceSpec& spec, bool no_start) {
  const std::string file = ServiceFile(kThisSystem);
  const std::string dir = file.substr(0, file.rfind('/'));
  if (!MakeDirs(dir)) {
    std::cerr << "kittyctl: cannot create " << dir << ": " << strerror(errno) << std::endl;
    return kExitError;
  }
  {
    std::ofstream out(file + ".tmp");
    out << (kThisSystem == ServiceSystem::kLaunchd ? LaunchdPlist(spec) : SystemdUnit(spec));
    if (!out.good()) {
      std::cerr << "kittyctl: cannot write " << file << std::endl;
      return kExitError;
    }
  }
  if (rename((file + ".tmp").c_str(), file.c_str()) != 0) {
    std::cerr << "kittyctl: cannot write " << file << ": " << strerror(errno) << std::endl;
    return kExitError;
  }
  std::cout << "wrote " << file << "\n";
  if (no_start) {
    std::cout << "not started (--no-start); start it with: " << Joined(LoadCommand(kThisSystem, file)) << std::endl;
    return kExitOk;
  }
  if (kThisSystem == ServiceSystem::kSystemd) Run({"systemctl", "--user", "daemon-reload"});
  else Run(UnloadCommand(kThisSystem));  // a loaded older version first, or bootstrap refuses
  const auto load = LoadCommand(kThisSystem, file);
  const int rc = Run(load);
  if (rc != 0) {
    std::cerr << "kittyctl: '" << Joined(load) << "' failed (" << (rc < 0 ? "not found" : "exit " + std::to_string(rc))
              << "); the file is in place: load it once the " << (kThisSystem == ServiceSystem::kLaunchd ? "GUI session" : "systemd user manager")
              << " is available" << std::endl;
    return kExitError;
  }
  std::cout << "started: " << Joined(load) << std::endl;
  return kExitOk;
}

int Uninstall() {
  const std::string file = ServiceFile(kThisSystem);
  const int rc = Run(UnloadCommand(kThisSystem));  // not loaded, or no manager: nothing to stop
  if (unlink(file.c_str()) != 0 && errno != ENOENT) {
    std::cerr << "kittyctl: cannot remove " << file << ": " << strerror(errno) << std::endl;
    return kExitError;
  }
  if (kThisSystem == ServiceSystem::kSystemd) Run({"systemctl", "--user", "daemon-reload"});
  std::cout << "removed " << file << (rc == 0 ? " (stopped)" : "") << std::endl;
  return kExitOk;
}

int ShowStatus() {
  const std::string file = ServiceFile(kThisSystem);
  struct stat st;
  if (stat(file.c_str(), &st) != 0) {
    std::cout << "not installed (" << file << " does not exist)" << std::endl;
    return kExitError;
  }
  std::cout << "installed: " << file << std::endl;
  const std::vector<std::string> ask =
      kThisSystem == ServiceSystem::kLaunchd
          ? std::vector<std::string>{"launchctl", "print", "gui/" + std::to_string(getuid()) + "/" + kLaunchdLabel}
          : std::vector<std::string>{"systemctl", "--user", "status", "--no-pager", kSystemdUnit};
  const int rc = Run(ask);
  if (rc < 0) std::cout << "(" << ask[0] << " not found: cannot tell whether it runs)" << std::endl;
  return rc == 0 ? kExitOk : kExitError;
}

}  // namespace

std::string SystemdUnit(const ServiceSpec& spec) {
  std::string exec;
  for (const auto& a : KittydArgv(spec)) exec += (exec.empty() ? "" : " ") + SystemdArg(a);
  std::ostringstream u;
  u << "# Written by `kittyctl service install`; `kittyctl service uninstall` removes it.\n"
       "[Unit]\n"
       "Description=kittyd: local LLM workers started on demand\n"
       "After=network.target\n"
       "\n"
       "[Service]\n"
       "Type=exec\n"
    << "ExecStart=" << exec << "\n"
    << "# SIGTERM to kittyd alone: it stops its workers itself (their requests end first). The\n"
       "# rest of the group is killed only if it has not done so within TimeoutStopSec.\n"
       "KillMode=mixed\n"
       "TimeoutStopSec=90\n"
       "Restart=on-failure\n"
       "RestartSec=2\n"
       "\n"
       "[Install]\n"
       "WantedBy=default.target\n";
  return u.str();
}

std::string LaunchdPlist(const ServiceSpec& spec) {
  std::ostringstream p;
  p << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
       "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
       "<!-- Written by `kittyctl service install`; `kittyctl service uninstall` removes it. -->\n"
       "<plist version=\"1.0\">\n"
       "<dict>\n"
    << "  <key>Label</key>\n  <string>" << kLaunchdLabel << "</string>\n"
    << "  <key>ProgramArguments</key>\n  <array>\n";
  for (const auto& a : KittydArgv(spec)) p << "    <string>" << XmlText(a) << "</string>\n";
  p << "  </array>\n"
       "  <key>RunAtLoad</key>\n  <true/>\n"
       "  <!-- Started again when it fails, not when it was stopped. -->\n"
       "  <key>KeepAlive</key>\n  <dict>\n    <key>SuccessfulExit</key>\n    <false/>\n  </dict>\n"
       "  <!-- A model server: no background throttling of its CPU or I/O. -->\n"
       "  <key>ProcessType</key>\n  <string>Interactive</string>\n"
       "  <!-- SIGTERM, then this long for kittyd to stop its workers before SIGKILL. -->\n"
       "  <key>ExitTimeOut</key>\n  <integer>90</integer>\n"
    << "  <key>StandardOutPath</key>\n  <string>" << XmlText(spec.log_path) << "</string>\n"
    << "  <key>StandardErrorPath</key>\n  <string>" << XmlText(spec.log_path) << "</string>\n"
    << "</dict>\n</plist>\n";
  return p.str();
}

int RunService(const ServiceOptions& o, const std::string& self) {
  ServiceSpec spec;
  if (!o.kittyd.empty()) {
    spec.kittyd = Absolute(o.kittyd);
  } else {
    const std::string me = Absolute(self);
    spec.kittyd = me.substr(0, me.rfind('/') + 1) + "kittyd";
  }
  if (access(spec.kittyd.c_str(), X_OK) != 0) {
    std::cerr << "kittyctl: no kittyd at " << spec.kittyd << " (give its path with --kittyd)" << std::endl;
    return kExitUsage;
  }
  if (!o.config.empty()) {
    spec.config = Absolute(o.config);
    if (access(spec.config.c_str(), R_OK) != 0) {
      std::cerr << "kittyctl: cannot read the config " << spec.config << std::endl;
      return kExitUsage;
    }
  }
  spec.log_path = Home() + "/Library/Logs/kittyd.log";
  if (o.op == "print") {
    const ServiceSystem system = o.system == "macos"   ? ServiceSystem::kLaunchd
                                 : o.system == "linux" ? ServiceSystem::kSystemd
                                                       : kThisSystem;
    std::cout << (system == ServiceSystem::kLaunchd ? LaunchdPlist(spec) : SystemdUnit(spec)) << std::flush;
    return kExitOk;
  }
  if (o.op == "install") return Install(spec, o.no_start);
  if (o.op == "uninstall") return Uninstall();
  return ShowStatus();
}

}  // namespace kitty::ctl
