// The WorkerManager with everything real: PosixSpawner, the fake engine binary as worker,
// HTTP over loopback, the Asio clock. Seed §9.1/§9.2 and the supervision faults of issue 2.
#include <signal.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "kitty/backends/backend.h"
#include "kitty/base/asio_clock.h"
#include "kitty/http/beast.h"
#include "kitty/http/worker_http_client.h"
#include "kitty/manager/manager.h"
#include "kitty/process/port_allocator.h"
#include "kitty/process/port_probe.h"
#include "kitty/process/posix_spawner.h"
#include "kitty/testing/paths.h"

namespace kitty {
namespace {

using namespace std::chrono_literals;
namespace web = kitty::web;

bool GroupGone(int pgid) { return ::kill(-pgid, 0) != 0 && errno == ESRCH; }
bool PidGone(int pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

// Counts spawns, so "one process for 8 callers" is checked on the real spawner.
class CountingSpawner : public Spawner {
 public:
  explicit CountingSpawner(Spawner* inner) : inner_(inner) {}
  Result<std::unique_ptr<Process>> spawn(const SpawnSpec& spec, ExitCallback cb) override {
    ++count;
    return inner_->spawn(spec, std::move(cb));
  }
  int count = 0;

 private:
  Spawner* inner_;
};

class ManagerProcessTest : public ::testing::Test {
 protected:
  ManagerProcessTest()
      : clock_(io_), posix_(io_, NewDaemonToken()), spawner_(&posix_), http_(io_) {
    logs_ = std::filesystem::temp_directory_path() /
            ("kitty-mgr-test-" + std::to_string(getpid()) + "-" +
             std::to_string(reinterpret_cast<uintptr_t>(this)));
    std::filesystem::create_directories(logs_);
  }
  ~ManagerProcessTest() override {
    if (manager_) {
      bool done = false;
      manager_->release_all(true, [&] { done = true; });
      run_until([&] { return done; }, 15s);
    }
    std::error_code ec;
    std::filesystem::remove_all(logs_, ec);
  }

  ModelConfig fake_model(const std::string& id, std::vector<std::string> flags = {}) {
    ModelConfig m;
    m.id = id;
    m.backend = Backend::kCommand;
    m.command = {testing_util::FakeEnginePath(), "--port", "${PORT}", "--model-id", id};
    m.command.insert(m.command.end(), flags.begin(), flags.end());
    m.shutdown_path = "/shutdown";
    m.stop_timeout_seconds = 2;
    m.start_timeout_seconds = 10;
    m.idle_shutdown_seconds = 0;
    return m;
  }

  void make(std::vector<ModelConfig> models) {
    env_.clock = &clock_;
    env_.spawner = &spawner_;
    env_.worker_http = &http_;
    env_.ports = &ports_;
    env_.logs_dir = logs_.string();
    manager_ = std::make_unique<WorkerManager>(models, env_, PortRange{42000, 42999});
  }

  template <class Pred>
  bool run_until(Pred pred, Duration timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.run_for(5ms);
      if (io_.stopped()) io_.restart();
    }
    return true;
  }

  Result<Lease> acquire(Worker& w, Duration timeout = 15s) {
    std::optional<Result<Lease>> got;
    w.acquire([&](Result<Lease> r) { got.emplace(std::move(r)); });
    if (!run_until([&] { return got.has_value(); }, timeout))
      return MakeError("acquire did not complete");
    return std::move(*got);
  }

  Result<Endpoint> ensure(Worker& w, Duration timeout = 15s) {
    std::optional<Result<Endpoint>> got;
    w.ensure([&](Result<Endpoint> r) { got.emplace(std::move(r)); });
    if (!run_until([&] { return got.has_value(); }, timeout))
      return MakeError("ensure did not complete");
    return std::move(*got);
  }

  bool release(Worker& w, bool force, Duration timeout = 15s) {
    bool done = false;
    w.release(force, [&] { done = true; });
    return run_until([&] { return done; }, timeout);
  }

  // A blocking POST on its own thread-free io_context (the manager's loop is idle meanwhile).
  std::pair<int, std::string> post(const Endpoint& ep, const std::string& path,
                                   const std::string& body) {
    web::net::io_context io;
    web::beast::tcp_stream s(io);
    s.connect(web::tcp::endpoint(web::net::ip::make_address(ep.host), ep.port));
    web::http::request<web::http::string_body> req{web::http::verb::post, path, 11};
    req.set(web::http::field::host, ep.host);
    req.set(web::http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    web::http::write(s, req);
    web::beast::flat_buffer buf;
    web::http::response<web::http::string_body> res;
    web::http::read(s, buf, res);
    return {static_cast<int>(res.result_int()), res.body()};
  }

  boost::asio::io_context io_;
  AsioClock clock_;
  PosixSpawner posix_;
  CountingSpawner spawner_;
  web::WorkerHttpClient http_;
  OsPortAllocator ports_;
  Env env_;
  std::filesystem::path logs_;
  std::unique_ptr<WorkerManager> manager_;
};

// Seed §9.1: start a fake qwen_32b, complete through it, force release, the group is gone.
TEST_F(ManagerProcessTest, SingleWorkerLifecycle) {
  make({fake_model("qwen_32b", {"--load-ms", "50"})});
  auto w = manager_->find("qwen_32b");
  ASSERT_TRUE(w);
  auto lease = acquire(*w);
  ASSERT_TRUE(lease.ok()) << lease.error().message;
  const int pid = w->info().pid;
  ASSERT_GT(pid, 0);
  auto [status, body] = post(lease->endpoint(), "/v1/completions",
                             R"({"prompt":"hello kitty","max_tokens":4})");
  EXPECT_EQ(status, 200);
  EXPECT_NE(body.find("echo: hello kitty"), std::string::npos) << body;
  lease->reset();
  ASSERT_TRUE(release(*w, /*force=*/true));
  EXPECT_EQ(w->state(), WorkerState::kStopped);
  EXPECT_TRUE(PidGone(pid));
  EXPECT_TRUE(GroupGone(pid));
  // The log file got the worker's output.
  std::ifstream log(logs_ / "qwen_32b.log");
  std::string all((std::istreambuf_iterator<char>(log)), {});
  EXPECT_NE(all.find("qwen_32b"), std::string::npos);
}

// Seed §9.2: idle_shutdown_seconds: 1, one call, gone within the next ~2 s of real time.
TEST_F(ManagerProcessTest, IdleShutdownInRealTime) {
  auto m = fake_model("qwen_32b");
  m.idle_shutdown_seconds = 1;
  make({m});
  auto w = manager_->find("qwen_32b");
  {
    auto lease = acquire(*w);
    ASSERT_TRUE(lease.ok()) << lease.error().message;
    auto [status, body] = post(lease->endpoint(), "/v1/completions", R"({"prompt":"x"})");
    EXPECT_EQ(status, 200);
  }
  const int pid = w->info().pid;
  EXPECT_TRUE(run_until([&] { return w->state() == WorkerState::kStopped; }, 2500ms));
  EXPECT_TRUE(GroupGone(pid));
}

TEST_F(ManagerProcessTest, ConcurrentAcquiresStartOneProcess) {
  make({fake_model("qwen_32b", {"--load-ms", "200"})});
  auto w = manager_->find("qwen_32b");
  std::vector<Lease> leases;
  int errors = 0;
  for (int i = 0; i < 8; ++i)
    w->acquire([&](Result<Lease> r) {
      if (r)
        leases.push_back(std::move(r.value()));
      else
        ++errors;
    });
  ASSERT_TRUE(run_until([&] { return leases.size() + errors == 8; }, 15s));
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(spawner_.count, 1);
  EXPECT_EQ(w->info().in_flight, 8);
}

TEST_F(ManagerProcessTest, WorkerIgnoringSigtermIsKilledAfterStopTimeout) {
  auto m = fake_model("stubborn", {"--ignore-sigterm", "--hang-on-shutdown"});
  m.stop_timeout_seconds = 1;
  make({m});
  auto w = manager_->find("stubborn");
  ASSERT_TRUE(ensure(*w).ok());
  const int pid = w->info().pid;
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(release(*w, false));
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(GroupGone(pid));
  EXPECT_GE(took, 900ms);  // it took the deadline, not the cooperative path
  auto tail = w->log()->last(50);
  (void)tail;
}

TEST_F(ManagerProcessTest, WorkerHangingOnShutdownStillStops) {
  make({fake_model("hang", {"--hang-on-shutdown"})});
  auto w = manager_->find("hang");
  ASSERT_TRUE(ensure(*w).ok());
  const int pid = w->info().pid;
  ASSERT_TRUE(release(*w, false));
  EXPECT_TRUE(GroupGone(pid));
}

TEST_F(ManagerProcessTest, GrandchildLeavesNothingBehind) {
  make({fake_model("forky", {"--fork-child"})});
  auto w = manager_->find("forky");
  ASSERT_TRUE(ensure(*w).ok());
  const int pid = w->info().pid;
  ASSERT_TRUE(release(*w, false));
  EXPECT_TRUE(GroupGone(pid));
}

TEST_F(ManagerProcessTest, ExitDuringStartReportsStatusAndLogTail) {
  make({fake_model("broken", {"--fail-on-start", "--load-ms", "100"})});
  auto w = manager_->find("broken");
  auto r = ensure(*w);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("exited with status 1"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("fake failure"), std::string::npos) << r.error().message;
  EXPECT_EQ(w->state(), WorkerState::kFailed);
  const int pid = spawner_.count;  // nothing left: no group of ours remains
  (void)pid;
}

TEST_F(ManagerProcessTest, NeverHealthyTimesOutAndIsKilled) {
  auto m = fake_model("sleepy", {"--never-healthy"});
  m.start_timeout_seconds = 1;
  make({m});
  auto w = manager_->find("sleepy");
  std::optional<Result<Endpoint>> got;
  w->ensure([&](Result<Endpoint> r) { got.emplace(std::move(r)); });
  ASSERT_TRUE(run_until([&] { return w->info().pid > 0; }, 5s));
  const int pid = w->info().pid;
  ASSERT_TRUE(run_until([&] { return got.has_value(); }, 5s));
  ASSERT_FALSE(got->ok());
  EXPECT_EQ(got->error().code, ErrorCode::kStartTimeout);
  EXPECT_NE(got->error().message.find("HTTP 503"), std::string::npos) << got->error().message;
  EXPECT_TRUE(run_until([&] { return GroupGone(pid); }, 3s));
}

TEST_F(ManagerProcessTest, FixedPortHeldByForeignProcessIsAClearError) {
  // A foreign listener (this test process) on the worker's fixed port.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);

  auto m = fake_model("fixed");
  m.port = port;
  make({m});
  auto w = manager_->find("fixed");
  auto r = ensure(*w);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("already in use"), std::string::npos) << r.error().message;
  EXPECT_EQ(spawner_.count, 0);
  // The foreign listener is untouched and still accepts.
  int c = ::socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_EQ(::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(c);
  ::close(fd);
}

TEST_F(ManagerProcessTest, AutoPortsGiveEachModelItsOwnPort) {
  make({fake_model("a"), fake_model("b"), fake_model("c")});
  std::set<int> ports;
  for (const char* id : {"a", "b", "c"}) {
    auto r = ensure(*manager_->find(id));
    ASSERT_TRUE(r.ok()) << r.error().message;
    ports.insert(r->port);
  }
  EXPECT_EQ(ports.size(), 3u);
}

}  // namespace
}  // namespace kitty
