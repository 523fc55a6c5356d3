#include "kitty/http/ui_route.h"

#include <fstream>
#include <sstream>

#include "kitty/http/reply.h"
#include "kitty/http/ui_assets.h"

namespace kitty::web {
namespace {

std::string_view ContentType(std::string_view name) {
  auto ends = [name](std::string_view ext) { return name.ends_with(ext); };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".json")) return "application/json";
  return "application/octet-stream";
}

// One flat directory of plain names: nothing can climb out of it.
bool SafeName(std::string_view name) {
  if (name.empty() || name.front() == '.') return false;
  for (char c : name)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')) return false;
  return true;
}

std::optional<std::string> FromDisk(const std::string& dir, std::string_view name) {
  std::ifstream in(dir + "/" + std::string(name), std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<std::string> Embedded(std::string_view name) {
  for (const auto& a : UiAssets())
    if (a.path == name) return std::string(a.body);
  return std::nullopt;
}

}  // namespace

bool IsUiPath(std::string_view path) {
  return path == "/" || path == "/ui" || path.starts_with("/ui/");
}

void ServeUi(Exchange& ex, std::string_view path, const std::string& dir) {
  const auto method = ex.req.method();
  if (method != http::verb::get && method != http::verb::head)
    return ReplyError(ex, MakeError("use GET " + std::string(path), ErrorCode::kMethodNotAllowed));
  if (path == "/" || path == "/ui") {
    Response res{http::status::found, ex.req.version()};
    res.set(http::field::location, "/ui/");
    res.keep_alive(ex.keep_alive);
    res.prepare_payload();
    return ex.respond(std::move(res));
  }
  std::string_view name = path.substr(4);  // after "/ui/"
  if (name.empty()) name = "index.html";
  std::optional<std::string> body;
  if (SafeName(name)) body = dir.empty() ? Embedded(name) : FromDisk(dir, name);
  if (!body)
    return ReplyError(ex, MakeError("no dashboard file '" + std::string(name) + "' (the dashboard is at /ui/)",
                                    ErrorCode::kRouteNotFound));
  Response res{http::status::ok, ex.req.version()};
  res.set(http::field::content_type, ContentType(name));
  // The page talks only to this kittyd: no other origin may script, style or frame it.
  res.set("Content-Security-Policy",
          "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'");
  res.set("X-Content-Type-Options", "nosniff");
  res.set(http::field::cache_control, "no-cache");
  res.keep_alive(ex.keep_alive);
  if (method == http::verb::head) {
    res.content_length(body->size());
  } else {
    res.body() = std::move(*body);
    res.prepare_payload();
  }
  ex.respond(std::move(res));
}

}  // namespace kitty::web
