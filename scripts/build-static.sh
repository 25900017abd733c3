#!/usr/bin/env bash
# Builds sajin's static release binaries for Linux on a plain Debian machine, without Docker:
# `cargo zigbuild` links against the musl that zig ships (zig cc also compiles the bundled
# SQLite), so no cross gcc and no C library for the target are needed.
#
#   scripts/build-static.sh [TARGET...]    # default: every target below
#
# It installs what is missing: Debian packages (after `apt-get update`, when root), the Rust
# targets (rustup), zig (`ziglang` from PyPI, in a venv under the build cache) and
# cargo-zigbuild (`cargo install`). Each binary lands in dist/sajin-<target>; the script then
# prints `file`, `ldd` and the size of each, and fails when one is not static or over budget.
#
# Environment: SAJIN_BUILD_CACHE (default ~/.cache/sajin-build) holds the zig venv;
# CARGO_TARGET_DIR is honoured; MAX_BINARY_BYTES (default 12000000) is the size budget.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

ALL_TARGETS=(
    x86_64-unknown-linux-musl
    aarch64-unknown-linux-musl
    armv7-unknown-linux-musleabihf
    arm-unknown-linux-musleabihf
)
ZIGLANG_VERSION=${ZIGLANG_VERSION:-0.17.1}
CARGO_ZIGBUILD_VERSION=${CARGO_ZIGBUILD_VERSION:-0.24.1}
CACHE=${SAJIN_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sajin-build}
MAX_BINARY_BYTES=${MAX_BINARY_BYTES:-12000000}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

step() { printf '\n== %s\n' "$*"; }
die() {
    echo "build-static: $*" >&2
    exit 1
}

check_targets() {
    local target known
    for target in "$@"; do
        for known in "${ALL_TARGETS[@]}"; do
            [ "$target" = "$known" ] && continue 2
        done
        die "unknown target $target (known: ${ALL_TARGETS[*]})"
    done
}

install_packages() {
    local missing=()
    command -v file >/dev/null || missing+=(file)
    command -v cc >/dev/null || missing+=(gcc libc6-dev)
    python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
    command -v python3 >/dev/null || missing+=(python3)
    [ "${#missing[@]}" -eq 0 ] && return

    step "Debian packages: ${missing[*]}"
    [ "$(id -u)" -eq 0 ] || die "run as root, or install these first: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# zig goes in a venv of its own so that it neither needs nor disturbs a system pip; its bin/
# comes first on PATH, where cargo-zigbuild finds `python3 -m ziglang`.
install_zig() {
    local venv=$CACHE/zig-venv
    if ! "$venv/bin/python3" -m ziglang version >/dev/null 2>&1; then
        step "zig (ziglang $ZIGLANG_VERSION from PyPI) into $venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q "ziglang==$ZIGLANG_VERSION"
    fi
    export PATH="$venv/bin:$PATH"
    echo "zig $(python3 -m ziglang version)"
}

install_zigbuild() {
    if ! cargo zigbuild --help >/dev/null 2>&1; then
        step "cargo-zigbuild $CARGO_ZIGBUILD_VERSION (cargo install)"
        cargo install --locked cargo-zigbuild --version "$CARGO_ZIGBUILD_VERSION"
    fi
    cargo-zigbuild --version
}

# Adds the prebuilt standard library for TARGET. Where rustup cannot get one (a dist
# server or mirror that lacks it), the target is listed in BUILD_STD and its std is built from
# the rust-src component instead.
BUILD_STD=()
install_rust_target() {
    local target=$1
    rustup target list --installed | grep -qx "$target" && return
    step "rustup target add $target"
    RUST_BACKTRACE=0 rustup target add "$target" && return

    echo "no prebuilt std for $target: it will be built from rust-src"
    rustup component add rust-src
    BUILD_STD+=("$target")
}

needs_build_std() {
    local target
    for target in "${BUILD_STD[@]}"; do
        [ "$target" = "$1" ] && return 0
    done
    return 1
}

build_target() {
    local target=$1
    local args=(--release --locked --target "$target")
    local started=$SECONDS

    step "cargo zigbuild --release --target $target"
    if needs_build_std "$target"; then
        # Building std needs cargo's unstable -Zbuild-std. RUSTC_BOOTSTRAP lets the stable
        # toolchain take it, so every target is built by the same compiler. llvm-libunwind
        # compiles the unwinder from rust-src, and link-self-contained=no takes the C start
        # files and libc from zig, since rust-src ships neither.
        local flags_var
        flags_var=CARGO_TARGET_$(echo "$target" | tr a-z- A-Z_)_RUSTFLAGS
        args+=("-Zbuild-std=std,panic_unwind" "-Zbuild-std-features=llvm-libunwind")
        env RUSTC_BOOTSTRAP=1 "$flags_var=-C link-self-contained=no" \
            cargo zigbuild "${args[@]}"
    else
        cargo zigbuild "${args[@]}"
    fi

    mkdir -p dist
    cp "$TARGET_DIR/$target/release/sajin" "dist/sajin-$target"
    echo "built dist/sajin-$target in $((SECONDS - started)) s"
}

# Prints what `file` and `ldd` say and the size; returns non-zero for a binary that is
# dynamically linked, unstripped or over budget.
report_binary() {
    local bin=dist/sajin-$1
    local kind size ldd_out
    kind=$(file -b "$bin")
    size=$(stat -c %s "$bin")
    ldd_out=$(ldd "$bin" 2>&1 || true)

    printf '\n%s\n  file: %s\n  ldd:  %s\n  size: %s bytes\n' "$bin" "$kind" "$ldd_out" "$size"
    case $kind in
        *"statically linked"* | *"static-pie linked"*) ;;
        *) echo "  FAIL: not statically linked" && return 1 ;;
    esac
    case $kind in
        *", stripped"*) ;;
        *) echo "  FAIL: not stripped" && return 1 ;;
    esac
    if [ "$size" -gt "$MAX_BINARY_BYTES" ]; then
        echo "  FAIL: over the budget of $MAX_BINARY_BYTES bytes"
        return 1
    fi
}

main() {
    local targets=("$@")
    [ "${#targets[@]}" -gt 0 ] || targets=("${ALL_TARGETS[@]}")
    check_targets "${targets[@]}"
    if ! command -v cargo >/dev/null || ! command -v rustup >/dev/null; then
        die "needs a Rust toolchain installed with rustup"
    fi

    install_packages
    install_zig
    install_zigbuild

    local target
    for target in "${targets[@]}"; do
        install_rust_target "$target"
    done
    for target in "${targets[@]}"; do
        build_target "$target"
    done

    step "static binaries"
    local failed=0
    for target in "${targets[@]}"; do
        report_binary "$target" || failed=1
    done
    [ "$failed" -eq 0 ] || die "a binary failed its checks"
}

main "$@"
