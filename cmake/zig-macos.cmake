# Toolchain for a macOS cross-build on Linux with Zig's clang (PyPI ziglang), which carries the
# macOS libc headers (libproc.h, sys/event.h, mach/*) and links Mach-O itself.
# scripts/build_macos.sh writes the wrappers this names (KITTY_ZIG_BIN: cc, c++, ar, ranlib, each
# `python -m ziglang <tool> -target <triple>`) and passes the staged libraries as KITTY_CROSS_DEPS.
set(CMAKE_SYSTEM_NAME Darwin)
# CMake's own test projects (compiler checks) read this file again: pass them these too.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES KITTY_ZIG_BIN KITTY_ZIG_ARCH KITTY_CROSS_DEPS)
if(NOT KITTY_ZIG_BIN)
  message(FATAL_ERROR "KITTY_ZIG_BIN: the directory of the zig wrappers (scripts/build_macos.sh sets it)")
endif()
if(NOT KITTY_ZIG_ARCH)
  set(KITTY_ZIG_ARCH arm64)
endif()
set(CMAKE_SYSTEM_PROCESSOR ${KITTY_ZIG_ARCH})
set(CMAKE_C_COMPILER ${KITTY_ZIG_BIN}/cc)
set(CMAKE_CXX_COMPILER ${KITTY_ZIG_BIN}/c++)
set(CMAKE_AR ${KITTY_ZIG_BIN}/ar CACHE FILEPATH "" FORCE)
set(CMAKE_RANLIB ${KITTY_ZIG_BIN}/ranlib CACHE FILEPATH "" FORCE)
# Zig picks the architecture from its -target; CMake must not add -arch or an SDK path of its own.
set(CMAKE_OSX_ARCHITECTURES "" CACHE STRING "" FORCE)
set(CMAKE_OSX_SYSROOT "" CACHE PATH "" FORCE)
set(CMAKE_OSX_DEPLOYMENT_TARGET "" CACHE STRING "" FORCE)
# Nothing of the build machine is found for the target.
set(CMAKE_FIND_ROOT_PATH ${KITTY_CROSS_DEPS})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
