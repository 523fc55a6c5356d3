#!/usr/bin/env bash
# Build a real `ollama` binary (CPU backend) from its Go module, into the cache
# directory outside the clone, for the tests of KITTY's Ollama backend and
# Ollama daemon supervision.
#
#   $KITTY_CACHE_DIR/bin/ollama
#   $KITTY_CACHE_DIR/ollama.env   (KITTY_OLLAMA=...)
#
# Sources, by pinned name and version through the ordinary clients:
#   - github.com/ollama/ollama@$OLLAMA_VERSION from the Go module proxy
#     (`go install`; CGO builds ggml's CPU backend that the module vendors).
#   - Two headers the module zip leaves out of llama/llama.cpp/vendor/:
#     miniaudio.h from the PyPI sdist `miniaudio`, stb_image.h from Debian's
#     libstb-dev. They are put on CGO_CPPFLAGS under the names the vendored
#     code includes (miniaudio/miniaudio.h, stb/stb_image.h).
#
# First install: about 10 min on 2 cores (cgo compiles ggml and llama.cpp).
# Idempotent: when the binary's key matches and `ollama --version` names the
# pinned version, it does nothing but rewrite ollama.env.
#
# Options (environment): KITTY_CACHE_DIR, PYTHON (interpreter with pip).
# stdout: only the final ollama.env lines; progress goes to stderr.
set -euo pipefail

OLLAMA_VERSION="0.17.4"
MINIAUDIO_VERSION="1.71"
# Bump when the recipe below changes, so cached binaries are rebuilt.
RECIPE_REV="1"

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 DEBIAN_FRONTEND=noninteractive
if [[ -z "${HOME:-}" ]]; then
    HOME="$(getent passwd "$(id -u)" | cut -d: -f6)"
    export HOME
fi
KITTY_CACHE_DIR="${KITTY_CACHE_DIR:-$HOME/.cache/kitty}"
PYTHON="${PYTHON:-python3}"
BIN_DIR="$KITTY_CACHE_DIR/bin"
BIN="$BIN_DIR/ollama"
KEY_FILE="$BIN_DIR/ollama.key"
ENV_FILE="$KITTY_CACHE_DIR/ollama.env"
GO_DIR="$KITTY_CACHE_DIR/go"      # module and build caches survive between runs
KEY="ollama==$OLLAMA_VERSION recipe=$RECIPE_REV arch=$(uname -m)"

log() { printf '[install_ollama] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

mkdir -p "$BIN_DIR" "$GO_DIR"
if command -v flock >/dev/null 2>&1; then
    exec 9>"$KITTY_CACHE_DIR/.install-ollama.lock"
    flock 9
fi

WORK=""
trap '[[ -n "$WORK" ]] && rm -rf "$WORK"' EXIT

apt_install() {
    local sudo=""
    if [[ "$(id -u)" != "0" ]]; then
        command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to apt-get install $*"
        sudo="sudo -n"
    fi
    log "apt-get install $*"
    $sudo apt-get install -y -q --no-install-recommends "$@" >&2 \
        || { $sudo apt-get update -q >&2 && $sudo apt-get install -y -q --no-install-recommends "$@" >&2; }
}

binary_ok() {
    [[ -x "$BIN" && -f "$KEY_FILE" && "$(cat "$KEY_FILE")" == "$KEY" ]] || return 1
    # `ollama --version` asks a running server too; the client's own line is enough.
    OLLAMA_HOST=127.0.0.1:1 "$BIN" --version 2>&1 | grep -q "$OLLAMA_VERSION"
}

find_go() {
    if command -v go >/dev/null 2>&1; then command -v go; return; fi
    if [[ -x /usr/local/go/bin/go ]]; then echo /usr/local/go/bin/go; return; fi
    apt_install golang-go >/dev/null
    command -v go
}

install_binary() {
    local go
    go="$(find_go)" || die "no Go toolchain"
    command -v gcc >/dev/null 2>&1 && command -v g++ >/dev/null 2>&1 || apt_install gcc g++
    [[ -f /usr/include/stb/stb_image.h ]] || apt_install libstb-dev
    [[ -f /usr/include/stb/stb_image.h ]] || die "libstb-dev installed no /usr/include/stb/stb_image.h"

    WORK="$(mktemp -d "$KITTY_CACHE_DIR/tmp-ollama.XXXXXX")"
    log "downloading miniaudio==$MINIAUDIO_VERSION (sdist) from PyPI for miniaudio.h"
    "$PYTHON" -m pip download --no-deps --no-cache-dir --progress-bar off \
        --no-binary miniaudio "miniaudio==$MINIAUDIO_VERSION" -d "$WORK" >&2
    tar -xzf "$WORK"/miniaudio-"$MINIAUDIO_VERSION".tar.gz -C "$WORK"
    local header
    header="$(find "$WORK/miniaudio-$MINIAUDIO_VERSION" -name miniaudio.h | head -n 1)"
    [[ -n "$header" ]] || die "no miniaudio.h in the miniaudio sdist"
    mkdir -p "$WORK/include/miniaudio" "$WORK/include/stb"
    cp "$header" "$WORK/include/miniaudio/miniaudio.h"
    cp /usr/include/stb/stb_image.h "$WORK/include/stb/stb_image.h"

    log "go install github.com/ollama/ollama@v$OLLAMA_VERSION (cgo, CPU backend; ~10 min on 2 cores)"
    local t0=$SECONDS
    GOPATH="$GO_DIR" GOMODCACHE="$GO_DIR/mod" GOCACHE="$GO_DIR/build-cache" \
    GOBIN="$WORK/bin" GOFLAGS=-mod=mod CGO_ENABLED=1 \
    CGO_CPPFLAGS="-I$WORK/include" \
        "$go" install -trimpath \
        -ldflags "-s -w -X github.com/ollama/ollama/version.Version=$OLLAMA_VERSION" \
        "github.com/ollama/ollama@v$OLLAMA_VERSION" >"$WORK/build.log" 2>&1 \
        || { tail -n 60 "$WORK/build.log" >&2; die "go install failed (log above)"; }
    log "build finished in $((SECONDS - t0))s"

    rm -f "$KEY_FILE"
    cp "$WORK/bin/ollama" "$BIN.tmp.$$"
    chmod 0755 "$BIN.tmp.$$"
    mv -f "$BIN.tmp.$$" "$BIN"
    printf '%s\n' "$KEY" >"$KEY_FILE"
    # The module cache is read-only by Go's design; keep it (rebuilds are quick)
    # but let `rm -rf` of the cache dir work.
    chmod -R u+w "$GO_DIR/mod" 2>/dev/null || true
}

if binary_ok; then
    log "ollama $OLLAMA_VERSION up to date ($BIN)"
else
    install_binary
    binary_ok || die "the installed ollama does not report version $OLLAMA_VERSION"
fi

printf '# written by scripts/install_ollama.sh; shell-sourceable\nKITTY_OLLAMA=%q\n' "$BIN" \
    >"$ENV_FILE.tmp.$$"
mv -f "$ENV_FILE.tmp.$$" "$ENV_FILE"
log "ollama: $BIN"
grep -v '^#' "$ENV_FILE"
