#include "kitty/process/posix_spawner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "kitty/base/blocking_pool.h"
#include "kitty/process/exec_child.h"
#include "kitty/process/platform.h"
#include "kitty/process/watchdog.h"


namespace kitty {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// How long on_exit waits for the pipe's EOF after the leader was reaped: grandchildren that
// inherited the pipe may keep it open for as long as they live.
constexpr auto kExitGrace = 100ms;
// After on_exit, how often we check whether the group is gone so the pipe can be closed.
constexpr auto kGroupPoll = 500ms;

std::atomic<int> g_subreaper_users{0};  // PosixSpawners alive (tests may run several loops)

std::string Errno(int err) { return strerror(err); }

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// A pipe whose both ends are close-on-exec (macOS has no pipe2; there the gap between pipe()
// and fcntl() is harmless because only the control thread ever forks).
int PipeCloexec(int fds[2]) {
#ifdef __linux__
  return pipe2(fds, O_CLOEXEC);
#else
  if (pipe(fds) != 0) return -1;
  fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  fcntl(fds[1], F_SETFD, FD_CLOEXEC);
  return 0;
#endif
}

ExitStatus DecodeWaitStatus(int st) {
  ExitStatus s;
  if (WIFEXITED(st)) s.code = WEXITSTATUS(st);
  if (WIFSIGNALED(st)) s.signal = WTERMSIG(st);
  return s;
}

}  // namespace

// One worker's log file. Shared by the child's state and the writes queued on the blocking
// pool, so the file is closed after the last of them.
struct LogFile {
  LogFile(int fd, std::string path) : fd(fd), path(std::move(path)) {}
  ~LogFile() { CloseFd(fd); }
  // Appends `data`; on the first failure returns the line that says why writing stopped.
  std::optional<std::string> write(std::string_view data) {
    if (fd < 0) return std::nullopt;
    while (!data.empty()) {
      const ssize_t w = ::write(fd, data.data(), data.size());
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        const std::string why = Errno(errno);
        CloseFd(fd);
        return "\n[kittyd] cannot write log file " + path + ": " + why + "; log file writing stopped\n";
      }
      data.remove_prefix(static_cast<size_t>(w));
    }
    return std::nullopt;
  }
  int fd;
  const std::string path;
};

// One spawned leader and its output pipe. Owned jointly by the spawner's tables, the
// Process handle and in-flight async handlers.
struct ChildState {
  ChildState(asio::io_context& io, int pid, int out_fd)
      : pid(pid), pipe(io, out_fd), timer(io) {}

  const int pid;
  asio::posix::stream_descriptor pipe;
  asio::steady_timer timer;  // exit grace, then group polling
  std::shared_ptr<LogFile> log;
  std::optional<BlockingPool::Strand> log_strand;  // set when writes go to the pool
  std::shared_ptr<LogTail> tail;
  Spawner::ExitCallback on_exit;
  bool reaped = false;
  bool eof = false;
  bool notified = false;
  bool group_gone = false;  // once true we never signal this pgid again (pid reuse)
  ExitStatus status;
  std::array<char, 16384> buf;
};

struct PosixSpawner::Core : std::enable_shared_from_this<Core> {
  Core(asio::io_context& io, Watchdog* watchdog, BlockingPool* log_writer)
      : io(io), sigchld(io, SIGCHLD), watchdog(watchdog), log_writer(log_writer) {}

  asio::io_context& io;
  asio::signal_set sigchld;
  Watchdog* watchdog;        // may be null
  BlockingPool* log_writer;  // may be null: log files are written inline
  std::map<int, std::shared_ptr<ChildState>> running;  // leaders not yet reaped, by pid
  std::set<std::shared_ptr<ChildState>> live;          // not yet (reaped, drained, notified)
  bool closed = false;

  void arm() {
    sigchld.async_wait([weak = weak_from_this()](boost::system::error_code ec, int) {
      auto self = weak.lock();
      if (!self || self->closed || ec) return;
      self->reap_now();
      self->arm();
    });
  }

  void reap_now() {
    for (;;) {
      int st = 0;
      pid_t pid = waitpid(-1, &st, WNOHANG);
      if (pid == 0) return;
      if (pid < 0) {
        if (errno == EINTR) continue;
        return;  // ECHILD: no children at all
      }
      auto it = running.find(pid);
      // Unknown pids are orphaned grandchildren re-parented to us (subreaper): reaping is
      // all they need.
      if (it == running.end()) continue;
      std::shared_ptr<ChildState> child = it->second;
      running.erase(it);
      child->reaped = true;
      child->status = DecodeWaitStatus(st);
      // Most workers leave no one behind: tell the watchdog now, while the pgid can only just
      // have become free, rather than at the Worker's next look at the group.
      if (kill(-pid, 0) != 0 && errno == ESRCH) mark_group_gone(*child);
      if (child->eof) {
        // reap_now() may run inside Process::group_alive(): never call back re-entrantly.
        asio::post(io, [weak = weak_from_this(), child] {
          if (auto self = weak.lock(); self && !self->closed) self->notify(child);
        });
      } else {
        child->timer.expires_after(kExitGrace);
        child->timer.async_wait([weak = weak_from_this(), child](boost::system::error_code ec) {
          auto self = weak.lock();
          if (!self || self->closed || ec) return;
          self->notify(child);
        });
      }
    }
  }

  // Once the leader is reaped and no member is left, the pgid is free for any new process:
  // we never signal it again, and the watchdog must forget it at once.
  void mark_group_gone(ChildState& child) {
    if (child.group_gone) return;
    child.group_gone = true;
    if (watchdog) watchdog->remove_group(child.pid);
  }

  void notify(std::shared_ptr<ChildState> child) {  // by value: erase() may drop the last ref
    if (child->notified) return;
    child->notified = true;
    child->timer.cancel();
    Spawner::ExitCallback cb = std::move(child->on_exit);
    child->on_exit = nullptr;
    if (child->eof) {
      live.erase(child);
    } else {
      poll_group(child);
    }
    if (cb) cb(child->status);
  }

  // After on_exit with the pipe still open: close it once nobody in the group can write.
  void poll_group(const std::shared_ptr<ChildState>& child) {
    child->timer.expires_after(kGroupPoll);
    child->timer.async_wait([weak = weak_from_this(), child](boost::system::error_code ec) {
      auto self = weak.lock();
      if (!self || self->closed || ec || child->eof) return;
      self->reap_now();
      if (kill(-child->pid, 0) != 0 && errno == ESRCH) {
        self->mark_group_gone(*child);
        self->drain_and_close(child);
      } else {
        self->poll_group(child);
      }
    });
  }

  void drain_and_close(const std::shared_ptr<ChildState>& child) {
    boost::system::error_code ec;
    child->pipe.non_blocking(true, ec);
    for (;;) {
      size_t n = child->pipe.read_some(asio::buffer(child->buf), ec);
      if (n > 0) consume(*child, n);
      if (ec) break;
    }
    on_eof(child);
  }

  void start_read(const std::shared_ptr<ChildState>& child) {
    child->pipe.async_read_some(
        asio::buffer(child->buf),
        [weak = weak_from_this(), child](boost::system::error_code ec, size_t n) {
          auto self = weak.lock();
          if (!self || self->closed || child->eof) return;
          if (n > 0) self->consume(*child, n);
          if (!ec) {
            self->start_read(child);
            return;
          }
          if (ec != asio::error::eof && child->tail)
            child->tail->append("[kittyd] error reading worker output: " + ec.message() + "\n");
          self->on_eof(child);
        });
  }

  void consume(ChildState& child, size_t n) {
    const std::string_view out(child.buf.data(), n);
    if (child.log && child.log_strand) {
      asio::post(*child.log_strand, [log = child.log, data = std::string(out),
                                     tail = std::weak_ptr<LogTail>(child.tail), io = &io] {
        if (auto why = log->write(data))
          asio::post(*io, [tail, why = *why] {
            if (auto t = tail.lock()) t->append(why);
          });
      });
    } else if (child.log) {
      if (auto why = child.log->write(out); why && child.tail) child.tail->append(*why);
    }
    if (child.tail) child.tail->append(out);
  }

  void on_eof(std::shared_ptr<ChildState> child) {
    child->eof = true;
    if (child->tail) child->tail->finish();
    boost::system::error_code ignored;  // close() of a pipe we own cannot fail meaningfully
    child->pipe.close(ignored);
    child->log.reset();
    if (child->notified) {
      child->timer.cancel();
      live.erase(child);
    } else if (child->reaped) {
      notify(child);
    }
  }

  void shutdown() {
    closed = true;
    boost::system::error_code ignored;
    sigchld.cancel(ignored);
    for (const auto& child : live) {
      child->on_exit = nullptr;
      child->timer.cancel();
      child->pipe.close(ignored);
      child->log.reset();
    }
    live.clear();
    running.clear();
  }
};

namespace {

class PosixProcess : public Process {
 public:
  PosixProcess(std::shared_ptr<ChildState> child, std::weak_ptr<PosixSpawner::Core> core)
      : child_(std::move(child)), core_(std::move(core)) {}

  int pid() const override { return child_->pid; }

  void signal_group(int sig) override {
    if (child_->group_gone) return;
    if (kill(-child_->pid, sig) != 0 && errno == ESRCH && child_->reaped) mark_group_gone();
  }

  bool group_alive() const override {
    if (child_->group_gone) return false;
    if (auto core = core_.lock(); core && !core->closed) core->reap_now();
    if (kill(-child_->pid, 0) == 0 || errno == EPERM) return true;
    // Only once the leader is reaped may its pid (hence the pgid) be reused by a stranger.
    if (child_->reaped) mark_group_gone();
    return false;
  }

  bool exited() const override { return child_->reaped; }

 private:
  void mark_group_gone() const {
    if (auto core = core_.lock()) {
      core->mark_group_gone(*child_);
    } else {
      child_->group_gone = true;  // the spawner, hence the watchdog it was given, may be gone
    }
  }

  std::shared_ptr<ChildState> child_;
  std::weak_ptr<PosixSpawner::Core> core_;
};

}  // namespace

PosixSpawner::PosixSpawner(asio::io_context& io, std::string daemon_token, Watchdog* watchdog,
                           BlockingPool* log_writer)
    : token_(std::move(daemon_token)), core_(std::make_shared<Core>(io, watchdog, log_writer)) {
  if (g_subreaper_users++ == 0) {
    // Without it grandchildren still die with their group; they are just reaped by init.
    (void)platform::SetChildSubreaper(true);
  }
  core_->arm();
  // Children that exited before we listened would otherwise wait for the next SIGCHLD.
  core_->reap_now();
}

PosixSpawner::~PosixSpawner() {
  core_->shutdown();
  core_.reset();
  if (--g_subreaper_users == 0) (void)platform::SetChildSubreaper(false);
}

void PosixSpawner::reap_now() { core_->reap_now(); }

Result<std::unique_ptr<Process>> PosixSpawner::spawn(const SpawnSpec& spec,
                                                     ExitCallback on_exit) {
  if (spec.argv.empty() || spec.argv[0].empty())
    return MakeError("cannot start a worker: empty command", ErrorCode::kLaunchInvalid);

  std::string path_env;
  if (auto it = spec.env.find("PATH"); it != spec.env.end()) {
    path_env = it->second;
  } else if (const char* p = getenv("PATH")) {
    path_env = p;
  } else {
    path_env = "/usr/local/bin:/usr/bin:/bin";
  }
  auto path = ResolveExecutable(spec.argv[0], path_env);
  if (!path.ok()) return path.error();
  ExecPlan plan = MakeExecPlan(spec, path.value(), token_);

  int log_fd = -1;
  if (!spec.log_path.empty()) {
    std::filesystem::path parent = std::filesystem::path(spec.log_path).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec)
      return MakeError("cannot create log directory " + parent.string() + ": " + ec.message(),
                       ErrorCode::kWorkerStartFailed);
    log_fd = open(spec.log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (log_fd < 0)
      return MakeError("cannot open log file " + spec.log_path + ": " + Errno(errno),
                       ErrorCode::kWorkerStartFailed);
  }

  int out[2] = {-1, -1};
  int errp[2] = {-1, -1};
  int devnull = -1;
  auto close_all = [&] {
    CloseFd(out[0]);
    CloseFd(out[1]);
    CloseFd(errp[0]);
    CloseFd(errp[1]);
    CloseFd(devnull);
    CloseFd(log_fd);
  };
  if (PipeCloexec(out) != 0 || PipeCloexec(errp) != 0) {
    int err = errno;
    close_all();
    return MakeError("cannot create pipe: " + Errno(err), ErrorCode::kWorkerStartFailed);
  }
  devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0) {
    int err = errno;
    close_all();
    return MakeError("cannot open /dev/null: " + Errno(err), ErrorCode::kWorkerStartFailed);
  }
  long max_fd = sysconf(_SC_OPEN_MAX);
  if (max_fd < 256 || max_fd > 65536) max_fd = 65536;
  const char* cwd = spec.cwd.empty() ? nullptr : spec.cwd.c_str();
  pid_t parent = getpid();

  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close_all();
    return MakeError("cannot fork: " + Errno(err), ErrorCode::kWorkerStartFailed);
  }
  if (pid == 0) ChildMain(plan, cwd, devnull, out[1], errp[1], parent, static_cast<int>(max_fd));

  // Both sides call setpgid so that no signal_group() can miss the child (EACCES once it
  // has exec'd means the child already did it).
  setpgid(pid, pid);
  // Registered before the child can exec, hence before anything in its group can fork: a
  // kittyd killed from here on takes the whole group with it. (After spawn() returns would
  // leave a window where a `sh -c` has already forked; on macOS, with no parent-death signal,
  // one where the worker itself would survive.) Until we reap the child its pid cannot be
  // reused, so the group registered is ours.
  if (core_->watchdog) {
    if (Status st = core_->watchdog->add_group(pid); !st) {
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      int st_ignored;
      while (waitpid(pid, &st_ignored, 0) < 0 && errno == EINTR) {
      }
      close_all();
      return MakeError("cannot start '" + spec.argv[0] + "': " + st.error().message,
                       ErrorCode::kWorkerStartFailed);
    }
  }
  CloseFd(out[1]);
  CloseFd(errp[1]);
  CloseFd(devnull);
  ChildFailure failure{};
  ssize_t n;
  do n = read(errp[0], &failure, sizeof failure);
  while (n < 0 && errno == EINTR);
  CloseFd(errp[0]);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    // The child only _exit()s from here (it never exec'd, so nothing of its own runs): forget
    // the group before reaping frees its pid.
    if (core_->watchdog) core_->watchdog->remove_group(pid);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    CloseFd(out[0]);
    CloseFd(log_fd);
    std::string why = Errno(failure.err);
    switch (failure.stage) {
      case ChildFailure::kChdir:
        return MakeError("cannot start '" + spec.argv[0] + "': cannot change directory to '" +
                             spec.cwd + "': " + why,
                         ErrorCode::kExecFailed);
      case ChildFailure::kStdio:
        return MakeError("cannot start '" + spec.argv[0] + "': cannot set up stdio: " + why,
                         ErrorCode::kExecFailed);
      case ChildFailure::kExec:
        break;
    }
    return MakeError("cannot execute '" + plan.path + "': " + why, ErrorCode::kExecFailed);
  }

  auto child = std::make_shared<ChildState>(core_->io, pid, out[0]);
  if (log_fd >= 0) {
    child->log = std::make_shared<LogFile>(log_fd, spec.log_path);
    if (core_->log_writer) child->log_strand = core_->log_writer->make_strand();
  }
  child->tail = spec.tail;
  child->on_exit = std::move(on_exit);
  core_->running[pid] = child;
  core_->live.insert(child);
  core_->start_read(child);
  return std::unique_ptr<Process>(std::make_unique<PosixProcess>(child, core_));
}

std::string NewDaemonToken() {
  std::random_device rd;
  static const char* hex = "0123456789abcdef";
  std::string token;
  for (int i = 0; i < 4; ++i) {
    uint32_t v = rd();
    for (int j = 0; j < 8; ++j) token += hex[(v >> (j * 4)) & 0xf];
  }
  return token;
}

}  // namespace kitty
