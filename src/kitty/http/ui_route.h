// GET /ui: the dashboard (issue 12), a static page that reads kittyd's own API from the browser
// (/kitty/system/workers, /kitty/events, the admin routes). Its files are compiled into kittyd
// (ui_assets.h); `dir` (KITTY_UI_DIR) serves them from disk instead, to work on the page
// without a rebuild. The page itself needs no key: what it shows comes through the API, which
// asks for the admin key as usual.
#pragma once

#include <string>
#include <string_view>

#include "kitty/http/server.h"

namespace kitty::web {

/// "/", "/ui" and everything under "/ui/".
bool IsUiPath(std::string_view path);
/// Answers a GET or HEAD of such a path: "/" and "/ui" redirect to "/ui/" (index.html).
void ServeUi(Exchange& ex, std::string_view path, const std::string& dir);

}  // namespace kitty::web
