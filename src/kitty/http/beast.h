// Common Boost.Beast/Asio names for the http/ directory: the only part of kitty that
// includes Beast.
#pragma once

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <utility>  // Boost 1.74's asio/awaitable.hpp uses std::exchange without including it

namespace kitty::web {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// Completion token for coroutines: the error lands in `ec` instead of being thrown.
inline auto use_ec(boost::system::error_code& ec) {
  return net::redirect_error(net::use_awaitable, ec);
}

}  // namespace kitty::web
