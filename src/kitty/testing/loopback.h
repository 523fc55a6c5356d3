// Loopback sockets for HTTP tests without processes: a connected pair on one io_context, and a
// scripted upstream that answers one connection with bytes the test chooses.
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <functional>
#include <string>
#include <vector>

namespace kitty::testing_util {

using tcp = boost::asio::ip::tcp;

/// A connected (client, server) pair on 127.0.0.1.
inline std::pair<tcp::socket, tcp::socket> SocketPair(boost::asio::io_context& io) {
  tcp::acceptor acc(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(io);
  client.connect(acc.local_endpoint());
  tcp::socket server = acc.accept();
  return {std::move(client), std::move(server)};
}

/// Reads everything until the peer closes (or `limit` bytes), synchronously.
inline std::string ReadAll(tcp::socket& s, size_t limit = 1 << 24) {
  std::string out;
  char buf[4096];
  boost::system::error_code ec;
  while (out.size() < limit) {
    const size_t n = s.read_some(boost::asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

}  // namespace kitty::testing_util
