// The fake worker's HTTP server: llama-server's surface with scripted behaviour.
//
// Single-threaded: everything runs on the one io_context thread given to the constructor, one
// coroutine per connection (keep-alive, TCP_NODELAY). Only that thread may call the methods.
//
// Routes: GET /health, GET /v1/models, POST /v1/completions, POST /v1/chat/completions,
// POST /v1/embeddings, POST /shutdown, GET /fake/stats. Until SetLoaded(), /health and the
// inference routes answer 503 "Loading model" as llama-server does.
#pragma once

#include <utility>  // Boost 1.74's Asio coroutine headers need it first.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <string>

#include "fake_engine/options.h"

namespace kitty::fake {

/// Counters behind GET /fake/stats. Inference requests are completions, chats and embeddings
/// that passed validation; each ends as completed (answer fully written) or cancelled (the client
/// went away first).
struct Stats {
  uint64_t http_requests = 0;
  uint64_t requests = 0;
  uint64_t completed = 0;
  uint64_t cancelled = 0;
  uint64_t in_flight = 0;
};

class Server {
 public:
  Server(boost::asio::io_context& io, const Options& options);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds and listens on options.host:options.port. Returns the bound port, or 0 with *error set.
  uint16_t Listen(std::string* error);
  /// Starts accepting connections. Call once, after Listen().
  void Start();
  /// The simulated model load is over: inference works, and /health turns 200 unless
  /// --never-healthy.
  void SetLoaded();

 private:
  class Connection;

  static boost::asio::awaitable<void> ServeConnection(Server& server,
                                                      boost::asio::ip::tcp::socket sock);
  boost::asio::awaitable<void> AcceptLoop();
  void CountGenerationDone();
  /// A scripted crash: abort (SIGABRT), or exit with --exit-code when it is set.
  [[noreturn]] void Fail(std::string_view why) const;

  boost::asio::io_context& io_;
  const Options& options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  bool loaded_ = false;
  Stats stats_;
  uint64_t generations_done_ = 0;  // completions and chats, for --crash-after and --hang-after
  bool hung_ = false;              // --hang-after reached: nothing is answered any more
  uint64_t next_id_ = 0;
  std::string health_ok_body_;
  std::string loading_body_;
  std::string models_body_;
};

}  // namespace kitty::fake
