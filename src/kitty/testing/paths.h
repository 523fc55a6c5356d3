// Where the tests find the repository and the helper binaries (set by CMakeLists.txt).
#pragma once

#include <string>

namespace kitty::testing_util {

inline std::string SourceDir() { return KITTY_SOURCE_DIR; }
inline std::string FakeEnginePath() { return KITTY_FAKE_ENGINE_PATH; }
inline std::string KittydPath() { return KITTY_KITTYD_PATH; }

}  // namespace kitty::testing_util
