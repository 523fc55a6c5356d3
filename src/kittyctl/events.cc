// kittyctl events [-f] [MODEL]: kittyd's lifecycle events (GET /kitty/events), one line each:
// time, kind, model, reason, message. -f follows them: it asks again every 250 ms for what came
// after the last id it printed (the route's replay), so a restarted kittyd or a dropped
// connection loses nothing the journal still holds.
#include <signal.h>
#include <time.h>

#include <iostream>

#include "kittyctl/commands.h"

namespace kitty::ctl {
namespace {

using nlohmann::json;

constexpr long kPollMs = 250;
volatile sig_atomic_t g_stop = 0;
void OnStop(int) { g_stop = 1; }

// Prints each event of an SSE body; returns the last id seen (or `last`).
uint64_t PrintEvents(const std::string& body, uint64_t last, bool as_json) {
  size_t at = 0;
  while (at < body.size()) {
    size_t end = body.find("\n\n", at);
    if (end == std::string::npos) end = body.size();
    const std::string block = body.substr(at, end - at);
    at = end + 2;
    const size_t data = block.find("data: ");
    if (data == std::string::npos) continue;
    const std::string text = block.substr(data + 6, block.find('\n', data) - data - 6);
    const json e = json::parse(text, nullptr, false);
    if (!e.is_object()) continue;
    if (e.contains("id") && e["id"].is_number_unsigned()) last = e["id"].get<uint64_t>();
    if (as_json) {
      std::cout << text << "\n";
      continue;
    }
    auto field = [&](const char* k) { return e.contains(k) && e[k].is_string() ? e[k].get<std::string>() : "-"; };
    std::cout << field("time") << "  " << field("kind") << "  " << field("model");
    if (e.contains("reason")) std::cout << "  " << field("reason");
    if (e.contains("message")) std::cout << "  " << field("message");
    if (e.contains("fraction") && e["fraction"].is_number())
      std::cout << "  " << static_cast<int>(e["fraction"].get<double>() * 100) << "%";
    std::cout << "\n";
  }
  std::cout << std::flush;
  return last;
}

}  // namespace

int RunEvents(const Context& ctx, const std::string& model, bool follow, bool as_json) {
  if (follow) {
    struct sigaction a {};
    a.sa_handler = OnStop;
    sigemptyset(&a.sa_mask);
    a.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &a, nullptr);
    sigaction(SIGTERM, &a, nullptr);
  }
  const std::string base = "/kitty/events?follow=false" + (model.empty() ? "" : "&model=" + EncodePathSegment(model));
  uint64_t last = 0;
  do {
    Result<Answer> answer = Ask(ctx, "GET", base + "&last_event_id=" + std::to_string(last));
    if (!answer.ok()) return Fail(answer.error());
    if (answer->status != 200) {
      const json& err = answer->json.is_object() && answer->json.contains("error") ? answer->json["error"] : json();
      const std::string why = err.is_object() && err.contains("message") && err["message"].is_string()
                                  ? err["message"].get<std::string>()
                                  : "HTTP " + std::to_string(answer->status) + " from GET /kitty/events";
      return Fail(MakeError(why, ErrorCode::kBadResponse));
    }
    last = PrintEvents(answer->raw, last, as_json);
    if (!follow) break;
    struct timespec pause {0, kPollMs * 1'000'000};
    nanosleep(&pause, nullptr);
  } while (!g_stop);
  return kExitOk;
}

}  // namespace kitty::ctl
