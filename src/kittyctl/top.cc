// kittyctl top: kittyd's models and the system's memory, refreshed like top(1).
//
// On a terminal: a full-screen view redrawn in place every interval, q or Ctrl-C to quit, a
// resize redraws at once. Otherwise (a pipe, a file): the same frame printed again every
// interval, a blank line between frames. --once prints one frame; --json prints the answers
// instead of the frame (one JSON object per line).
//
// Each refresh is GET /kitty/system/workers and GET /kitty/system/memory. The memory route is
// newer than some kittyds: its 404 makes the header say so, nothing more. A refresh that fails
// after the first keeps the last answers on screen under a line saying why, and tries again at
// the next interval: a view left open across a kittyd restart comes back by itself.
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <iostream>

#include "kittyctl/commands.h"
#include "kittyctl/format.h"
#include "kittyctl/json_fields.h"
#include "kittyctl/terminal.h"
#include "kittyctl/top_view.h"

namespace kitty::ctl {

using nlohmann::json;

namespace {

std::string LocalTime() {
  const time_t now = ::time(nullptr);
  struct tm local {};
  ::localtime_r(&now, &local);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &local);
  return buf;
}

// One refresh: the workers (an error when they cannot be had), then system memory (an absent
// route or a failure is a note in the header, not an error).
Result<TopData> Fetch(const Context& ctx) {
  Result<Reply> workers = Call(ctx, "GET", "/kitty/system/workers");
  if (!workers.ok()) return workers.error();
  TopData data;
  data.workers = std::move(workers->json);
  data.taken_at = LocalTime();
  Result<Answer> memory = Ask(ctx, "GET", "/kitty/system/memory");
  if (!memory.ok()) {
    data.memory_note = memory.error().message;
  } else if (IsUnknownRoute(*memory)) {
    data.memory_note = "not reported by this kittyd";
  } else if (memory->status < 200 || memory->status > 299) {
    data.memory_note = ErrorMessage(memory->status, memory->raw);
  } else if (!memory->json.is_object()) {
    data.memory_note = "kittyd answered GET /kitty/system/memory with something else than a "
                       "JSON object: " + Truncate(FirstLine(memory->raw), 80);
  } else {
    data.memory = std::move(memory->json);
  }
  return data;
}

std::string JsonLine(const TopData& data) {
  return json{{"workers", Field(data.workers, "workers")}, {"memory", data.memory}}.dump() + "\n";
}

// The refresh loop, for both a terminal (`screen` set) and plain output.
class TopLoop {
 public:
  TopLoop(const Context& ctx, const TopOptions& options, TopData first, Screen* screen)
      : ctx_(ctx), options_(options), screen_(screen) {
    input_.url = ctx.url.text;
    input_.interval_s = options.interval_s;
    input_.interactive = screen != nullptr;
    input_.data = std::move(first);
  }

  int Run(Waiter& waiter) {
    const auto interval = std::chrono::milliseconds(
        static_cast<int64_t>(options_.interval_s * 1000));
    Show();
    for (;;) {
      switch (waiter.Wait(interval)) {
        case WakeReason::kQuit:
          return kExitOk;
        case WakeReason::kResize:
          if (screen_ != nullptr) Show(/*fresh=*/false);  // same answers, new width
          continue;
        case WakeReason::kSuspend:
          Suspend();
          continue;
        case WakeReason::kTimeout:
        case WakeReason::kKey:
          break;
      }
      Refresh();
      Show();
    }
  }

 private:
  void Refresh() {
    Result<TopData> next = Fetch(ctx_);
    if (next.ok()) {
      input_.data = std::move(*next);
      input_.error.clear();
    } else {
      input_.error = next.error().message;
    }
  }

  // Draws the current answers; `fresh` is false for a redraw of answers already shown (a
  // resize), which plain output has no use for.
  void Show(bool fresh = true) {
    if (options_.json) {
      if (!fresh) return;
      // A failed refresh prints nothing rather than repeat the last answer as if it were new.
      if (input_.error.empty()) std::cout << JsonLine(input_.data) << std::flush;
      return;
    }
    const TerminalSize size = QueryTerminalSize(STDOUT_FILENO);
    const std::string frame = TopFrame(input_, size.columns);
    if (screen_ != nullptr) {
      screen_->Draw(frame, size.rows);
    } else {
      std::cout << (shown_ ? "\n" : "") << frame << std::flush;
    }
    shown_ = true;
  }

  // Ctrl-Z: the shell gets its screen and terminal mode back while we are stopped.
  void Suspend() {
    if (screen_ != nullptr) screen_->Leave();
    ::kill(::getpid(), SIGSTOP);  // returns once the shell continues us (fg)
    if (screen_ != nullptr) {
      screen_->Enter();
      Show(/*fresh=*/false);
    }
  }

  const Context& ctx_;
  const TopOptions& options_;
  Screen* screen_;
  TopFrameInput input_;
  bool shown_ = false;
};

}  // namespace

int RunTop(const Context& ctx, const TopOptions& options) {
  // The first refresh decides the exit code, as `kittyctl health` does: 2 when kittyd is not
  // there, 1 when it answers with an error. Later failures are shown, not fatal.
  Result<TopData> first = Fetch(ctx);
  if (!first.ok()) return Fail(first.error());
  if (options.once) {
    TopFrameInput input;
    input.url = ctx.url.text;
    input.interval_s = options.interval_s;
    input.data = std::move(*first);
    std::cout << (options.json ? JsonLine(input.data)
                               : TopFrame(input, QueryTerminalSize(STDOUT_FILENO).columns))
              << std::flush;
    return kExitOk;
  }
  const bool full_screen = !options.json && ::isatty(STDOUT_FILENO);
  // The Waiter outlives the Screen: a signal pending when the loop ends is taken by our handler
  // while the Waiter is destroyed, after the Screen has given the terminal back.
  Waiter waiter(/*keys=*/full_screen && ::isatty(STDIN_FILENO));
  if (!full_screen) return TopLoop(ctx, options, std::move(*first), nullptr).Run(waiter);
  Screen screen;
  return TopLoop(ctx, options, std::move(*first), &screen).Run(waiter);
}

}  // namespace kitty::ctl
