#include "kittyctl/terminal.h"

#include <errno.h>
#include <sys/select.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <string>
#include <vector>

namespace kitty::ctl {

namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGTSTP};
static_assert(sizeof kSignals / sizeof kSignals[0] == 5, "Waiter::previous_ holds five");

volatile sig_atomic_t g_quit = 0;
volatile sig_atomic_t g_resize = 0;
volatile sig_atomic_t g_suspend = 0;

void OnSignal(int signal) {
  if (signal == SIGWINCH) {
    g_resize = 1;
  } else if (signal == SIGTSTP) {
    g_suspend = 1;
  } else {
    g_quit = 1;
  }
}

// write(2) all of `text`; a terminal that went away is not worth an error (nothing to tell).
void WriteAll(std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(STDOUT_FILENO, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

TerminalSize QueryTerminalSize(int fd) {
  TerminalSize size;
  struct winsize ws {};
  if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
    size.columns = ws.ws_col;
    size.rows = ws.ws_row;
    return size;
  }
  if (const char* env = std::getenv("COLUMNS"); env != nullptr && *env != '\0') {
    size_t columns = 0;
    const char* end = env + std::char_traits<char>::length(env);
    auto [ptr, ec] = std::from_chars(env, end, columns);
    if (ec == std::errc() && ptr == end && columns > 0) size.columns = columns;
  }
  return size;
}

// --- Waiter --------------------------------------------------------------------------------------

Waiter::Waiter(bool keys) : keys_(keys) {
  g_quit = 0;
  g_resize = 0;
  g_suspend = 0;
  sigset_t block;
  sigemptyset(&block);
  for (int s : kSignals) sigaddset(&block, s);
  sigprocmask(SIG_BLOCK, &block, &previous_mask_);
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: pselect must return on a signal
  for (size_t i = 0; i < 5; ++i) sigaction(kSignals[i], &action, &previous_[i]);
}

Waiter::~Waiter() {
  // Unblock first, with our handlers still in place: a signal pending since the last Wait is
  // taken by OnSignal here instead of killing the process before Screen restores the terminal.
  sigprocmask(SIG_SETMASK, &previous_mask_, nullptr);
  for (size_t i = 0; i < 5; ++i) sigaction(kSignals[i], &previous_[i], nullptr);
}

WakeReason Waiter::Wait(std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    if (g_quit) return WakeReason::kQuit;
    if (g_suspend) {
      g_suspend = 0;
      return WakeReason::kSuspend;
    }
    if (g_resize) {
      g_resize = 0;
      return WakeReason::kResize;
    }
    const auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) return WakeReason::kTimeout;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    const struct timespec wait {
      static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)
    };
    fd_set in;
    FD_ZERO(&in);
    if (keys_) FD_SET(STDIN_FILENO, &in);
    // The signals are unblocked only for the duration of pselect (atomically, unlike a check
    // followed by select), so one that arrives between the checks above and the sleep still
    // wakes it. pselect, not Linux's ppoll: POSIX, so macOS has it too.
    const int n = ::pselect(keys_ ? STDIN_FILENO + 1 : 0, &in, nullptr, nullptr, &wait, &previous_mask_);
    if (n < 0) {
      if (errno == EINTR) continue;  // a signal: the checks at the top say which
      // pselect itself failed (it cannot, short of a bug): sleep out the interval rather than spin.
      ::nanosleep(&wait, nullptr);
      return WakeReason::kTimeout;
    }
    if (n == 0) continue;  // the deadline check at the top returns kTimeout
    char keys[64];
    const ssize_t got = ::read(STDIN_FILENO, keys, sizeof keys);
    if (got <= 0) {
      if (got < 0 && errno == EINTR) continue;
      keys_ = false;  // stdin is gone (EOF or an error): keep refreshing, read no more keys
      continue;
    }
    for (ssize_t i = 0; i < got; ++i) {
      // 0x03 is Ctrl-C should the terminal not turn it into SIGINT (ISIG off by someone else).
      if (keys[i] == 'q' || keys[i] == 'Q' || keys[i] == 0x03) return WakeReason::kQuit;
    }
    return WakeReason::kKey;
  }
}

// --- Screen --------------------------------------------------------------------------------------

Screen::Screen() {
  have_termios_ = ::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &saved_) == 0;
  Enter();
}

Screen::~Screen() { Leave(); }

void Screen::Enter() {
  if (entered_) return;
  if (have_termios_) {
    struct termios keys = saved_;
    keys.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);  // ISIG stays: Ctrl-C is SIGINT
    keys.c_cc[VMIN] = 1;
    keys.c_cc[VTIME] = 0;
    ::tcsetattr(STDIN_FILENO, TCSANOW, &keys);
  }
  WriteAll("\x1b[?1049h\x1b[?25l");  // the alternate screen (the shell's comes back), no cursor
  entered_ = true;
}

void Screen::Leave() {
  if (!entered_) return;
  WriteAll("\x1b[?25h\x1b[?1049l");
  if (have_termios_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  entered_ = false;
}

void Screen::Draw(std::string_view frame, size_t rows) {
  std::vector<std::string_view> lines;
  while (!frame.empty()) {
    const size_t end = frame.find('\n');
    lines.push_back(frame.substr(0, end));
    frame.remove_prefix(end == std::string_view::npos ? frame.size() : end + 1);
  }
  std::string more;
  if (rows > 0 && lines.size() > rows) {
    const size_t left_out = lines.size() - (rows - 1);
    more = "… " + std::to_string(left_out) + " more lines (enlarge the terminal)";
    lines.resize(rows - 1);
    lines.push_back(more);
  }
  std::string out = "\x1b[H";  // home; every line is overwritten in place
  for (size_t i = 0; i < lines.size(); ++i) {
    out += lines[i];
    out += "\x1b[K";  // clear what the previous frame left to the right of this line
    // No newline after the last line: on the bottom row it would scroll the frame up by one.
    if (i + 1 < lines.size()) out += "\r\n";
  }
  out += "\x1b[J";  // and everything below
  WriteAll(out);
}

}  // namespace kitty::ctl
