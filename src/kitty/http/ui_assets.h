// The dashboard's files (ui/ in the source tree), compiled into kittyd by
// cmake/embed_files.cmake: GET /ui serves them with nothing on disk.
#pragma once

#include <string_view>
#include <vector>

namespace kitty::web {

struct UiAsset {
  std::string_view path;  // relative to ui/, e.g. "app.js"
  std::string_view body;
};

/// Every file of ui/, sorted by path. Defined in the generated ui_assets.cc.
const std::vector<UiAsset>& UiAssets();

}  // namespace kitty::web
