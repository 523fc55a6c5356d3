#include "kitty/process/watchdog.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <string>

#include "kitty/process/platform.h"
#include "kitty/process/watchdog_protocol.h"

namespace kitty {

namespace asio = boost::asio;
using namespace std::chrono_literals;
namespace wire = watchdog_protocol;

namespace {

constexpr auto kReadyTimeout = 5s;     // fork to handshake
constexpr auto kExitWait = 2s;         // ~Watchdog: channel closed to watchdog gone
constexpr auto kRelaunchInterval = 1s; // a watchdog killed as soon as it starts must not spin us
constexpr auto kStuckAfter = 200ms;     // a full channel not drained this long: not reading

std::string Errno(int err) { return strerror(err); }

// --- the watchdog process: async-signal-safe code only, from fork() to _exit() ---------------

// Appends decimal `v` (>= 0) to buf at *len, as far as `cap` allows.
void AppendInt(char* buf, size_t cap, size_t* len, long v) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0 && n < 20);
  while (n > 0 && *len < cap) buf[(*len)++] = digits[--n];
}

void AppendStr(char* buf, size_t cap, size_t* len, const char* s) {
  while (*s && *len < cap) buf[(*len)++] = *s++;
}

void WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;  // stderr gone: nobody to tell
    p += w;
    n -= static_cast<size_t>(w);
  }
}

// What the watchdog tells stderr after its sweep (kittyd's own log, usually), in chunks so
// that no group count overflows a fixed buffer.
void ReportSweep(bool have_stderr, const wire::GroupTable& table, int killed) {
  if (!have_stderr || table.size() == 0) return;
  char buf[256];
  size_t len = 0;
  AppendStr(buf, sizeof buf, &len, "kittyd-watchdog: kittyd is gone; SIGKILLed ");
  AppendInt(buf, sizeof buf, &len, killed);
  AppendStr(buf, sizeof buf, &len, " of its ");
  AppendInt(buf, sizeof buf, &len, table.size());
  AppendStr(buf, sizeof buf, &len, " worker process group(s):");
  for (int i = 0; i < table.size(); ++i) {
    if (len > sizeof buf - 16) {
      WriteAll(2, buf, len);
      len = 0;
    }
    AppendStr(buf, sizeof buf, &len, " ");
    AppendInt(buf, sizeof buf, &len, table[i]);
  }
  AppendStr(buf, sizeof buf, &len, "\n");
  WriteAll(2, buf, len);
}

void Say(bool have_stderr, const char* what, int err) {
  if (!have_stderr) return;
  char buf[200];
  size_t len = 0;
  AppendStr(buf, sizeof buf, &len, "kittyd-watchdog: ");
  AppendStr(buf, sizeof buf, &len, what);
  if (err != 0) {
    AppendStr(buf, sizeof buf, &len, " (errno ");
    AppendInt(buf, sizeof buf, &len, err);
    AppendStr(buf, sizeof buf, &len, ")");
  }
  AppendStr(buf, sizeof buf, &len, "\n");
  WriteAll(2, buf, len);
}

// The watchdog. `own` is its end of the channel, `kittyd_end` kittyd's (inherited: it must go,
// or the watchdog would hold the channel open itself and never see kittyd's death).
[[noreturn]] void WatchdogMain(int own, int kittyd_end, int max_fd) {
  // A session of its own: out of kittyd's process group (a kill of that group, a terminal's
  // Ctrl-C) and without a controlling terminal (no SIGHUP when the terminal goes). It cannot
  // fail: after the double fork we are not a group leader.
  setsid();
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // Handlers inherited from kittyd (asio's write to a pipe we are about to close) must not run.
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int s = 1; s < 32; ++s)
    if (s != SIGKILL && s != SIGSTOP) sigaction(s, &sa, nullptr);
  sa.sa_handler = SIG_IGN;
  for (int s : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU})
    sigaction(s, &sa, nullptr);
  platform::ChildSetProcessName("kittyd-watchdog");

  // kittyd may run with 0, 1 or 2 closed, and then socketpair() hands those numbers out: move
  // our end above stderr, and keep fd 2 only if it is kittyd's stderr.
  const bool have_stderr = own != 2 && kittyd_end != 2;
  close(kittyd_end);
  if (own < 3) {
    int moved = fcntl(own, F_DUPFD, 3);
    if (moved < 0) _exit(1);
    own = moved;
  }
  platform::ChildCloseFdsExcept(own, max_fd);
  close(0);
  close(1);
  if (!have_stderr) close(2);

  // Ready: kittyd's Start() returns once it reads our pid.
  const int me = getpid();
  const char* p = reinterpret_cast<const char*>(&me);
  size_t left = sizeof me;
  while (left > 0) {
    ssize_t w = write(own, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) _exit(1);
    p += w;
    left -= static_cast<size_t>(w);
  }

  wire::GroupTable table;
  wire::LineReader reader;
  bool said_full = false;
  char buf[512];
  for (;;) {
    ssize_t n = read(own, buf, sizeof buf);
    if (n > 0) {
      if (!reader.feed(buf, static_cast<size_t>(n), table) && !said_full) {
        said_full = true;
        Say(have_stderr, "too many process groups; some are not protected", 0);
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) break;
    // Not EOF, so kittyd may well be alive: killing its workers would be the worse mistake.
    // Exiting closes our end, so kittyd sees us gone and starts a new watchdog.
    Say(have_stderr, "cannot read the channel from kittyd; exiting without killing anything",
        errno);
    _exit(2);
  }

  // EOF: every holder of kittyd's end has closed it, i.e. kittyd exited or died.
  int killed = 0;
  for (int i = 0; i < table.size(); ++i)
    if (kill(-table[i], SIGKILL) == 0) ++killed;
  ReportSweep(have_stderr, table, killed);
  _exit(0);
}

// Reads exactly n bytes from a blocking-or-not `fd` until `deadline`; false on EOF, error or
// timeout.
bool ReadExactly(int fd, char* p, size_t n, std::chrono::steady_clock::time_point deadline) {
  while (n > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    struct pollfd pfd = {fd, POLLIN, 0};
    int rc = poll(&pfd, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return false;
    ssize_t r = read(fd, p, n);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

// What watch() keeps on the io_context: owned by its pending handlers, so that destroying the
// io_context first (it is created after us in RunDaemon) destroys it cleanly.
struct Watchdog::Loop {
  explicit Loop(asio::io_context& io) : eof(io), timer(io) {}
  asio::posix::stream_descriptor eof;  // a dup of fd_; readable = the watchdog is gone
  asio::steady_timer timer;            // the next launch attempt while there is no watchdog
  Watchdog* owner = nullptr;           // null once the Watchdog is destroyed
  uint64_t generation = 0;             // handlers of an earlier channel do nothing
};

Result<std::unique_ptr<Watchdog>> Watchdog::Start() {
  std::unique_ptr<Watchdog> w(new Watchdog());
  w->next_launch_ = std::chrono::steady_clock::now() + kRelaunchInterval;
  if (Status st = w->launch(); !st) return st.error();
  return w;
}

Status Watchdog::launch() {
  int sv[2];
#ifdef SOCK_CLOEXEC
  int rc = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
#else
  // Without SOCK_CLOEXEC (macOS) the gap before fcntl() is harmless: spawner children close
  // every descriptor before exec, and fork+exec happens on this same thread.
  int rc = socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  if (rc == 0) {
    fcntl(sv[0], F_SETFD, FD_CLOEXEC);
    fcntl(sv[1], F_SETFD, FD_CLOEXEC);
  }
#endif
  if (rc != 0) return MakeError("watchdog: cannot create its channel: " + Errno(errno), ErrorCode::kIoError);
#ifdef SO_NOSIGPIPE
  // No MSG_NOSIGNAL here (older macOS): a send() to a dead watchdog must not raise SIGPIPE.
  int one = 1;
  setsockopt(sv[0], SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
  long max_fd = sysconf(_SC_OPEN_MAX);
  if (max_fd < 256 || max_fd > 65536) max_fd = 65536;

  // Double fork: the intermediate exits at once and we reap it here, so the watchdog is never
  // our child to wait for (PosixSpawner reaps any child with waitpid(-1) and drops unknown
  // pids; when kittyd is a subreaper the watchdog is re-parented to it and reaped that way).
  pid_t mid = fork();
  if (mid == 0) {
    pid_t wd = fork();
    if (wd == 0) WatchdogMain(sv[1], sv[0], static_cast<int>(max_fd));
    _exit(wd < 0 ? 1 : 0);
  }
  int fork_err = errno;
  close(sv[1]);
  if (mid < 0) {
    close(sv[0]);
    return MakeError("watchdog: cannot fork: " + Errno(fork_err), ErrorCode::kIoError);
  }
  // Synchronous, on the thread that runs the spawner's reaping: nobody else can reap `mid`.
  int st = 0;
  while (waitpid(mid, &st, 0) < 0 && errno == EINTR) {
  }
  int ready_pid = 0;
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 ||
      !ReadExactly(sv[0], reinterpret_cast<char*>(&ready_pid), sizeof ready_pid,
                   std::chrono::steady_clock::now() + kReadyTimeout) ||
      ready_pid <= 1) {
    // A watchdog that is alive but late reads EOF here and exits: its table is empty.
    close(sv[0]);
    return MakeError("watchdog: the watchdog process did not start", ErrorCode::kIoError);
  }
  // Never block the control thread on a watchdog that stopped reading: see send_all().
  fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
  fd_ = sv[0];
  pid_ = ready_pid;
  spdlog::debug("watchdog: pid {}", pid_);

  if (!groups_.empty()) {
    std::string all;
    char line[wire::kMaxLine];
    for (int g : groups_) all.append(line, static_cast<size_t>(wire::Encode('+', g, line)));
    if (send_all(all.data(), all.size()) != Sent::kOk) {
      close_channel(/*kill_first=*/true);
      return MakeError("watchdog: cannot register the worker groups with the new watchdog", ErrorCode::kIoError);
    }
  }
  if (auto loop = loop_.lock()) arm(loop);
  return Status::Ok();
}

Watchdog::~Watchdog() {
  if (auto loop = loop_.lock()) {
    loop->owner = nullptr;
    boost::system::error_code ignored;
    loop->eof.close(ignored);
    loop->timer.cancel();
  }
  if (fd_ < 0) return;
  if (!groups_.empty())
    spdlog::warn("watchdog: {} worker process group(s) still registered at exit; killing them",
                 groups_.size());
  // Half-close: the watchdog reads EOF, sweeps, exits; its end closes then, and we see EOF.
  shutdown(fd_, SHUT_WR);
  auto deadline = std::chrono::steady_clock::now() + kExitWait;
  for (;;) {
    char c[64];
    ssize_t n = recv(fd_, c, sizeof c, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) break;
    if (n > 0) continue;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      spdlog::warn("watchdog: pid {} did not exit within {} s of kittyd closing its channel",
                   pid_, std::chrono::duration_cast<std::chrono::seconds>(kExitWait).count());
      break;
    }
    struct pollfd pfd = {fd_, POLLIN, 0};
    poll(&pfd, 1, static_cast<int>(left.count()));
  }
  close(fd_);
}

Status Watchdog::add_group(int pgid) {
  if (pgid < 2) return MakeError("watchdog: not a worker process group: " + std::to_string(pgid));
  if (groups_.count(pgid)) return Status::Ok();
  if (groups_.size() >= static_cast<size_t>(wire::kMaxGroups))
    return MakeError("watchdog: cannot track more than " + std::to_string(wire::kMaxGroups) +
                     " worker process groups");
  groups_.insert(pgid);
  if (fd_ >= 0) {
    send_line('+', pgid);
  } else if (loop_.expired()) {
    relaunch();  // nobody else will: no io_context to retry on
  }
  return Status::Ok();
}

void Watchdog::remove_group(int pgid) {
  if (groups_.erase(pgid) == 0) return;
  if (fd_ >= 0) {
    send_line('-', pgid);
  } else if (loop_.expired()) {
    relaunch();
  }
}

void Watchdog::send_line(char op, int pgid) {
  char line[wire::kMaxLine];
  switch (send_all(line, static_cast<size_t>(wire::Encode(op, pgid, line)))) {
    case Sent::kOk:
      return;
    case Sent::kDead:
      return replace("has died", /*may_be_alive=*/false);
    case Sent::kStuck:
      return replace("stopped reading its channel", /*may_be_alive=*/true);
  }
}

Watchdog::Sent Watchdog::send_all(const char* data, size_t n) {
#ifdef MSG_NOSIGNAL
  const int flags = MSG_NOSIGNAL;  // a dead watchdog is EPIPE, not a SIGPIPE to kittyd
#else
  const int flags = 0;  // SO_NOSIGPIPE, set in launch()
#endif
  const auto deadline = std::chrono::steady_clock::now() + kStuckAfter;
  while (n > 0) {
    ssize_t w = send(fd_, data, n, flags);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // The channel's buffer is full (macOS gives a local socket only 8 KiB): a live watchdog
      // drains it within microseconds; one that does not within kStuckAfter is not reading.
      // A partial line may be left in the channel, but that watchdog is replaced anyway.
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return Sent::kStuck;
      struct pollfd pfd = {fd_, POLLOUT, 0};
      poll(&pfd, 1, static_cast<int>(left.count()));
      continue;
    }
    // The watchdog's end is closed: it is dead.
    if (w < 0 && (errno == EPIPE || errno == ECONNRESET)) return Sent::kDead;
    if (w < 0) return Sent::kStuck;  // anything else: alive as far as we know, replace it
    data += w;
    n -= static_cast<size_t>(w);
  }
  return Sent::kOk;
}

void Watchdog::close_channel(bool kill_first) {
  // A live watchdog that sees EOF kills every group it holds, and those are running workers:
  // so one we give up on while it may be alive (stopped, say) is SIGKILLed first. Its end of
  // the channel is still open, so it is alive and pid_ is still its pid.
  if (kill_first && pid_ > 0) kill(pid_, SIGKILL);
  if (auto loop = loop_.lock()) {
    boost::system::error_code ignored;
    loop->eof.close(ignored);
  }
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  pid_ = 0;
}

void Watchdog::replace(const std::string& why, bool may_be_alive) {
  spdlog::error(
      "watchdog pid {} {}: until a new one runs, the {} worker process group(s) would outlive a "
      "crash of kittyd; starting a new watchdog",
      pid_, why, groups_.size());
  close_channel(may_be_alive);
  relaunch();
}

void Watchdog::relaunch() {
  auto loop = loop_.lock();
  auto now = std::chrono::steady_clock::now();
  // Only the loop can relaunch on its own (at each death), so only it needs a brake: without
  // one, tries come at the pace of worker starts and stops, and the sooner the better.
  if (loop && now < next_launch_) {
    loop->timer.expires_at(next_launch_);
    loop->timer.async_wait([loop](boost::system::error_code ec) {
      if (!ec && loop->owner && loop->owner->fd_ < 0) loop->owner->relaunch();
    });
    return;
  }
  next_launch_ = now + kRelaunchInterval;
  if (Status st = launch(); !st) {
    spdlog::error("{}; trying again in {} s", st.error().message,
                  std::chrono::duration_cast<std::chrono::seconds>(kRelaunchInterval).count());
    if (loop) relaunch();  // schedules the next attempt
    return;
  }
  ++restarts_;
  spdlog::warn("watchdog restarted as pid {}; {} worker process group(s) registered with it",
               pid_, groups_.size());
}

void Watchdog::watch(asio::io_context& io) {
  if (auto old = loop_.lock()) {
    old->owner = nullptr;
    boost::system::error_code ignored;
    old->eof.close(ignored);
    old->timer.cancel();
  }
  auto loop = std::make_shared<Loop>(io);
  loop->owner = this;
  loop_ = loop;
  if (fd_ >= 0) {
    arm(loop);
  } else {
    relaunch();  // down since an add/remove found it dead: keep trying on the timer
  }
}

void Watchdog::arm(const std::shared_ptr<Loop>& loop) {
  boost::system::error_code ec;
  loop->eof.close(ec);
  // Our own descriptor for asio, so that destroying the io_context (which closes it) never
  // closes the channel itself: that would make the watchdog kill every running worker.
  int dup = fcntl(fd_, F_DUPFD_CLOEXEC, 3);
  if (dup < 0) {
    spdlog::error("watchdog: cannot watch pid {}: {}; its death will be noticed at the next "
                  "worker start or stop", pid_, Errno(errno));
    return;
  }
  loop->eof.assign(dup, ec);
  if (ec) {
    close(dup);
    spdlog::error("watchdog: cannot watch pid {}: {}", pid_, ec.message());
    return;
  }
  const uint64_t gen = ++loop->generation;
  loop->eof.async_wait(asio::posix::stream_descriptor::wait_read,
                       [loop, gen](boost::system::error_code ec) {
                         if (ec || !loop->owner || gen != loop->generation) return;
                         loop->owner->on_readable();
                       });
}

void Watchdog::on_readable() {
  char c[64];
  ssize_t n = recv(fd_, c, sizeof c, 0);
  if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))) {
    // The watchdog writes nothing after its pid; bytes or a spurious wake-up: keep watching.
    if (auto loop = loop_.lock()) arm(loop);
    return;
  }
  // ECONNRESET: its end closed with bytes unread, so it is dead too. Any other error says
  // nothing about it, and a live watchdog we let go would kill the running workers.
  const bool dead = n == 0 || errno == ECONNRESET;
  replace(dead ? "has died" : "channel failed: " + Errno(errno), /*may_be_alive=*/!dead);
}

}  // namespace kitty
