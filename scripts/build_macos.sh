#!/usr/bin/env bash
# Cross-compiles and links kittyd, kittyctl, kitty-agent and fake_engine for macOS on Linux,
# with Zig's clang and linker (PyPI ziglang: macOS libc headers, libproc, Mach; Mach-O output).
# Nothing of it runs here: the proof is that it compiles and links for the Mac, and that the
# outputs are Mach-O executables of the right CPU (scripts/check_macho.py).
#
#   scripts/build_macos.sh [TARGET ...]   TARGET: aarch64-macos (default; the Mac Studio),
#                                         x86_64-macos. Env KITTY_MACOS_TARGETS does the same.
#
# Libraries: Boost (Asio, Beast), nlohmann-json, CLI11, spdlog and fmt are header-only here and
# come from the Debian packages scripts/setup_deps.sh installs, staged alone so that no Linux
# libc header reaches the Mac build; yaml-cpp is built for each target from its Debian source
# package (apt-get source through a private deb-src list for this machine's own mirror). Flags
# that differ per platform are in CMakeLists.txt and cmake/zig-macos.cmake, not here.
#
# Everything is cached outside the clone (${KITTY_CACHE_DIR:-~/.cache/kitty}/macos): the
# libraries per target, a CMake build per clone and target (objects through ccache), so a
# second run only relinks what changed. Outputs: build-macos/<target>/ in the clone.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${KITTY_CACHE_DIR:-$HOME/.cache/kitty}
# shellcheck source=lib/zig.sh
. "$repo/scripts/lib/zig.sh"

targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || read -r -a targets <<< "${KITTY_MACOS_TARGETS:-aarch64-macos}"
root="$cache/macos"
mkdir -p "$root"
exec 9>"$root/.lock"
flock 9  # another clone may be building into the same cache

# yaml-cpp's source, once: the Debian source package of the version this machine has.
yaml_src="$root/src/yaml-cpp"
if [[ ! -f "$yaml_src/.complete" ]]; then
  echo "build_macos: fetching yaml-cpp's Debian source package" >&2
  . /etc/os-release
  # The machine's own Debian mirror: the first URIs:/deb line that names the main archive.
  mirror=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
           grep -E '^(URIs:|deb )' | grep -oE 'https?://[^ ]+' | grep -v -- '-security' | head -n 1 || true)
  [[ -n "$mirror" ]] || mirror=http://deb.debian.org/debian
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
  echo "deb-src $mirror $VERSION_CODENAME main" > "$work/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
            -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -q)
  apt-get "${apt_opts[@]}" update >&2
  (cd "$work" && apt-get "${apt_opts[@]}" source yaml-cpp >&2)
  dir=$(find "$work" -maxdepth 1 -type d -name 'yaml-cpp-*' | head -n 1)
  [[ -n "$dir" ]] || { echo "build_macos: apt-get source yaml-cpp gave no source tree" >&2; exit 1; }
  rm -rf "$yaml_src" && mkdir -p "$(dirname "$yaml_src")" && cp -a "$dir" "$yaml_src"
  touch "$yaml_src/.complete"
fi

# ccache hits across clones in different directories (as scripts/build.sh).
export CCACHE_BASEDIR="$repo" CCACHE_NOHASHDIR=true
# A clone's own build directory in the cache (CMake ties a build dir to one source dir).
clone_key=$(printf '%s' "$repo" | sha256sum | cut -c1-12)
for target in "${targets[@]}"; do
  case "$target" in
    aarch64-macos) arch=arm64 ;;
    x86_64-macos) arch=x86_64 ;;
    *) echo "build_macos: unknown target '$target' (aarch64-macos, x86_64-macos)" >&2; exit 2 ;;
  esac
  t="$root/$target"
  mkdir -p "$t/bin" "$t/deps/include" "$t/deps/lib"
  # The compiler wrappers CMake and ccache see: written only when they change (ccache checks
  # the compiler's mtime).
  for tool in cc c++ ar ranlib; do
    flags=""
    [[ $tool == cc || $tool == c++ ]] && flags=" -target $target"
    want="#!/bin/sh
exec \"$ZIG_PY\" -m ziglang $tool$flags \"\$@\""
    [[ -f "$t/bin/$tool" && "$(cat "$t/bin/$tool")" == "$want" ]] || { printf '%s\n' "$want" > "$t/bin/$tool"; chmod +x "$t/bin/$tool"; }
  done
  for d in boost nlohmann CLI spdlog fmt; do ln -sfn "/usr/include/$d" "$t/deps/include/$d"; done
  ln -sfn "$yaml_src/include/yaml-cpp" "$t/deps/include/yaml-cpp"
  if [[ ! -f "$t/deps/lib/libyaml-cpp.a" ]]; then
    echo "build_macos: building yaml-cpp for $target" >&2
    objs="$t/yaml-objs"
    rm -rf "$objs" && mkdir -p "$objs"
    n=0
    while IFS= read -r src; do
      n=$((n + 1))
      "$t/bin/c++" -std=c++11 -O2 -I"$yaml_src/include" -I"$yaml_src/src" -c "$src" -o "$objs/$n.o" &
      (( n % 2 == 0 )) && wait
    done < <(find "$yaml_src/src" -name '*.cpp' | sort)
    wait
    "$t/bin/ar" rcs "$t/deps/lib/libyaml-cpp.a.tmp" "$objs"/*.o
    mv "$t/deps/lib/libyaml-cpp.a.tmp" "$t/deps/lib/libyaml-cpp.a"
    rm -rf "$objs"
  fi

  build="$root/build-$clone_key/$target"
  echo "build_macos: $target in $build" >&2
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$repo/cmake/zig-macos.cmake" -DKITTY_ZIG_BIN="$t/bin" \
    -DKITTY_ZIG_ARCH="$arch" -DKITTY_CROSS_DEPS="$t/deps" -DKITTY_BUILD_TESTS=OFF >&2
  ninja -C "$build" kittyd kittyctl kitty-agent fake_engine >&2
  out="$repo/build-macos/$target"
  mkdir -p "$out"
  for bin in kittyd kittyctl kitty-agent fake_engine; do
    cp "$build/$bin" "$out/$bin"
    python3 "$repo/scripts/check_macho.py" "$out/$bin" "$arch"
  done
done
