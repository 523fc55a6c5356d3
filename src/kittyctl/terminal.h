// The terminal under `kittyctl top`: its size, a full-screen session that always gives the
// terminal back as it found it, and a wait for the next refresh that wakes early on a key or a
// signal. POSIX only (termios, ioctl, ppoll); kittyctl is single-threaded, so are these.
#pragma once

#include <signal.h>
#include <termios.h>

#include <chrono>
#include <cstddef>
#include <string_view>

namespace kitty::ctl {

/// Columns and rows of the terminal on `fd` (TIOCGWINSZ); when `fd` is not a terminal, columns
/// from $COLUMNS, else 120, and rows 0 (no limit).
struct TerminalSize {
  size_t columns = 120;
  size_t rows = 0;
};
TerminalSize QueryTerminalSize(int fd);

/// Whatever woke a Waiter.
enum class WakeReason {
  kTimeout,  // the interval passed: refresh
  kKey,      // a key asked for a refresh now (space, or any other key but q)
  kQuit,     // q, or SIGINT / SIGTERM / SIGHUP
  kResize,   // SIGWINCH: draw again at the new size
  kSuspend,  // SIGTSTP (Ctrl-Z): give the terminal back, stop, take it again on SIGCONT
};

/// Owns SIGINT, SIGTERM, SIGHUP, SIGWINCH and SIGTSTP while it lives: they are blocked except
/// inside Wait's ppoll, so a signal that arrives while a frame is being fetched or drawn is
/// taken at the next Wait, never lost between a check and the sleep. Restores the previous
/// handlers and mask on destruction.
class Waiter {
 public:
  /// `keys`: read keys from stdin (only when it is a terminal in the mode Screen sets).
  explicit Waiter(bool keys);
  ~Waiter();
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  /// Sleeps up to `timeout`; returns early on a key or a signal.
  WakeReason Wait(std::chrono::milliseconds timeout);

 private:
  bool keys_;
  sigset_t previous_mask_{};
  struct sigaction previous_[5] = {};
};

/// A full-screen session on stdout: the alternate screen, no cursor, keys without Enter and
/// without echo (Ctrl-C still raises SIGINT). The destructor gives it all back, so every way
/// out of `top` that returns (q, Ctrl-C, an error) leaves the shell as it was.
class Screen {
 public:
  Screen();
  ~Screen();
  Screen(const Screen&) = delete;
  Screen& operator=(const Screen&) = delete;

  /// Draws `frame` over the previous one: each line overwritten in place and cleared to its end,
  /// then the rest of the screen cleared (no flash of an empty screen between frames). Lines
  /// past `rows` are left out, with a last line saying how many.
  void Draw(std::string_view frame, size_t rows);
  /// Gives the terminal back for a suspend (Ctrl-Z) and takes it again after.
  void Leave();
  void Enter();

 private:
  bool have_termios_ = false;
  bool entered_ = false;
  struct termios saved_ {};
};

}  // namespace kitty::ctl
