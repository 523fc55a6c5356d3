#include "kitty/process/port_probe.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <set>

namespace kitty {
namespace {

// A TCP socket on 127.0.0.1:<kernel-chosen port>, listening or only bound.
class TestSocket {
 public:
  explicit TestSocket(bool listening, int port = 0, bool reuse = false) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    if (reuse) setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    ok_ = bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
          (!listening || listen(fd_, 4) == 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~TestSocket() { close(fd_); }
  bool ok() const { return ok_; }
  int port() const { return port_; }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  bool ok_ = false;
};

TEST(CheckPortFree, DetectsAListener) {
  TestSocket listener(true);
  ASSERT_TRUE(listener.ok());
  Status st = CheckPortFree("127.0.0.1", listener.port());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "port " + std::to_string(listener.port()) +
                                    " on 127.0.0.1 is already in use by another process");
  EXPECT_EQ(st.error().code, ErrorCode::kPortInUse);
  // A wildcard bind collides with the loopback listener too.
  EXPECT_FALSE(CheckPortFree("0.0.0.0", listener.port()).ok());
}

TEST(CheckPortFree, FreePortIsFree) {
  int port;
  {
    TestSocket s(true);
    port = s.port();
  }
  EXPECT_TRUE(CheckPortFree("127.0.0.1", port).ok());
}

TEST(CheckPortFree, TimeWaitLeftoversDoNotCount) {
  int port;
  {
    // A worker's listener sets SO_REUSEADDR, as every HTTP server does; the connections it
    // accepted inherit it, and so do their TIME_WAIT leftovers (which then allow a new bind).
    TestSocket listener(true, 0, /*reuse=*/true);
    ASSERT_TRUE(listener.ok());
    port = listener.port();
    int client = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    int conn = accept(listener.fd(), nullptr, nullptr);
    ASSERT_GE(conn, 0);
    close(conn);  // the server side closes first: its end goes to TIME_WAIT on `port`
    char buf[1];
    ASSERT_EQ(read(client, buf, 1), 0);
    close(client);
  }
  EXPECT_TRUE(CheckPortFree("127.0.0.1", port).ok());
}

TEST(CheckPortFree, APortHeldByALiveOutgoingConnectionIsInUse) {
  // Another process's client socket bound to `port` and connected elsewhere: nothing listens
  // on `port`, connecting to it is refused, yet a worker's bind there fails (issue 8).
  TestSocket server(true);
  ASSERT_TRUE(server.ok());
  TestSocket client(false);
  ASSERT_TRUE(client.ok());
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(server.port()));
  ASSERT_EQ(connect(client.fd(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  Status st = CheckPortFree("127.0.0.1", client.port());
  ASSERT_FALSE(st.ok()) << "port " << client.port() << " looked free";
  EXPECT_EQ(st.error().code, ErrorCode::kPortInUse);
}

TEST(CheckPortFree, BadInput) {
  EXPECT_FALSE(CheckPortFree("127.0.0.1", 0).ok());
  EXPECT_FALSE(CheckPortFree("127.0.0.1", 70000).ok());
  EXPECT_FALSE(CheckPortFree("no-such-host.invalid", 8080).ok());
}

TEST(PickFreePort, SkipsExcludedAndBusyPortsAndRotates) {
  // Find a stretch of 3 consecutive ports free right now (kernel-chosen base, best effort).
  TestSocket busy(true);
  ASSERT_TRUE(busy.ok());
  int base = busy.port();
  PortRange range{base, base + 2};
  if (range.last > 65535) GTEST_SKIP() << "ephemeral port at the top of the range";

  for (int i = 0; i < 6; ++i) {
    auto p = PickFreePort("127.0.0.1", range, {base + 1});
    if (!p.ok()) {
      // base+2 may be taken by some other process on the machine; then nothing is free.
      EXPECT_EQ(p.error().code, ErrorCode::kNoFreePort);
      continue;
    }
    EXPECT_EQ(p.value(), base + 2);  // base is listened on, base+1 excluded
  }
  auto none = PickFreePort("127.0.0.1", range, {base + 1, base + 2});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kNoFreePort);

  // With several free ports, consecutive picks differ. The two are in the kernel's ephemeral
  // range, where another process's connection may hold one for a moment: only picks made while
  // both were free count.
  PortRange wide{base + 1, base + 2};
  auto both_free = [&] {
    return CheckPortFree("127.0.0.1", base + 1).ok() && CheckPortFree("127.0.0.1", base + 2).ok();
  };
  std::set<int> picked;
  for (int i = 0; i < 6; ++i) {
    if (!both_free()) continue;
    auto p = PickFreePort("127.0.0.1", wide, {});
    if (p.ok()) picked.insert(p.value());
  }
  if (!picked.empty() && both_free()) {
    EXPECT_EQ(picked.size(), 2u) << "every pick chose port " << *picked.begin();
  }
  EXPECT_FALSE(PickFreePort("127.0.0.1", PortRange{10, 5}, {}).ok());
}

}  // namespace
}  // namespace kitty
