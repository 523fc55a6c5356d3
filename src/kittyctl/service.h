// kittyctl service: kittyd as a service of the user's own session, started at login and again
// after a crash — a launchd agent on macOS, a systemd user unit on Linux.
//
//   macOS  ~/Library/LaunchAgents/dev.kitty.kittyd.plist   launchctl bootstrap/bootout gui/<uid>
//   Linux  ~/.config/systemd/user/kittyd.service          systemctl --user enable --now / disable
//
// Both stop kittyd with SIGTERM only and give it time (90 s) to stop its workers itself: the
// unit's KillMode=mixed sends SIGTERM to kittyd alone, and SIGKILL to the rest of the group
// only after the timeout; launchd's ExitTimeOut does the same. Both restart kittyd when it fails
// (Restart=on-failure; KeepAlive with SuccessfulExit false), not when it was stopped.
#pragma once

#include <string>
#include <vector>

namespace kitty::ctl {

enum class ServiceSystem { kSystemd, kLaunchd };

struct ServiceSpec {
  std::string kittyd;          // absolute path of the kittyd binary
  std::string config;          // absolute path of kitty.yaml; empty: the embedded config
  std::string log_path;        // launchd: where kittyd's stdout and stderr go
};

inline constexpr const char* kLaunchdLabel = "dev.kitty.kittyd";
inline constexpr const char* kSystemdUnit = "kittyd.service";

/// The systemd user unit for `spec`.
std::string SystemdUnit(const ServiceSpec& spec);
/// The launchd agent's property list for `spec`.
std::string LaunchdPlist(const ServiceSpec& spec);

struct ServiceOptions {
  std::string op;              // install, uninstall, status, print
  std::string system;          // "", "linux" or "macos": print the other system's file
  std::string kittyd;          // default: the kittyd beside this kittyctl
  std::string config;          // default: none (the embedded config)
  bool no_start = false;       // install: write the file, do not load it
};

/// Runs `kittyctl service ...`; `self` is argv[0]. Returns the exit code.
int RunService(const ServiceOptions& options, const std::string& self);

}  // namespace kitty::ctl
