// kittyctl logs: a worker's recent output, and `-f` to follow it by polling the since-cursor.
#include <signal.h>
#include <time.h>

#include <iostream>

#include "kittyctl/commands.h"

namespace kitty::ctl {

using nlohmann::json;

namespace {

constexpr long kPollMs = 250;

volatile sig_atomic_t g_stop = 0;

void OnStopSignal(int) { g_stop = 1; }

// Ctrl-C or SIGTERM ends `logs -f` cleanly. SA_RESETHAND: a second signal kills at once, should
// a poll be stuck in a slow request.
void InstallStopHandlers() {
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;  // no SA_RESTART: the sleep between polls ends at once
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

// Prints the reply's lines; returns its cursor, or an error when the reply has none.
Result<uint64_t> PrintLines(const json& body) {
  if (body.is_object() && body.contains("lines") && body["lines"].is_array()) {
    for (const json& line : body["lines"]) {
      std::cout << (line.is_string() ? line.get<std::string>() : line.dump()) << "\n";
    }
  }
  std::cout << std::flush;
  if (!body.is_object() || !body.contains("next") || !body["next"].is_number_unsigned()) {
    return MakeError("kittyd's logs reply has no 'next' cursor to follow", ErrorCode::kBadResponse);
  }
  return body["next"].get<uint64_t>();
}

}  // namespace

int RunLogs(const Context& ctx, const std::string& model_id, int lines, bool follow) {
  if (follow) InstallStopHandlers();
  const std::string path = WorkerPath(model_id) + "/logs";
  Result<Reply> first = Call(ctx, "GET", path + "?tail=" + std::to_string(lines));
  if (!first.ok()) return Fail(first.error());
  Result<uint64_t> cursor = PrintLines(first->json);
  if (!follow) return kExitOk;
  if (!cursor.ok()) return Fail(cursor.error());

  while (!g_stop) {
    struct timespec pause {0, kPollMs * 1'000'000};
    nanosleep(&pause, nullptr);  // EINTR on a stop signal: the loop condition ends it
    if (g_stop) break;
    Result<Reply> next = Call(ctx, "GET", path + "?since=" + std::to_string(*cursor));
    if (!next.ok()) return Fail(next.error());
    cursor = PrintLines(next->json);
    if (!cursor.ok()) return Fail(cursor.error());
  }
  return kExitOk;
}

}  // namespace kitty::ctl
