#!/usr/bin/env bash
# ferry's one entry point. See README.md.
#
#   ./build.sh            check dependencies, configure, build, run the demo
#   ./build.sh test       build and run every test suite (CTest)
#   ./build.sh asan       the suites built with ASan+UBSan (clang)
#   ./build.sh tsan       the suites built with ThreadSanitizer (clang)
#   ./build.sh valgrind   the suites under valgrind memcheck
#   ./build.sh bench      build in Release and run the benchmarks
#   ./build.sh deps       only check (and install) the dependencies
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# rustup installs cargo here; a fresh login shell may not have it on PATH.
[ -d "$HOME/.cargo/bin" ] && PATH="$HOME/.cargo/bin:$PATH"
cd "$root"
jobs=$(nproc 2>/dev/null || echo 2)

say() { printf '\n== %s\n' "$*"; }

# Debian packages each command needs, installed with apt-get when we run as
# root and otherwise named in the exact command to run.
packages_for() {
    local base="cmake make gcc g++ pkg-config check cbindgen libffi-dev"
    case "$1" in
        asan | tsan) echo "$base clang libclang-rt-14-dev" ;;
        valgrind) echo "$base valgrind" ;;
        # the Rust benchmark's peer crates (a directory source, no crates.io) and the plots
        bench) echo "$base librust-sharded-slab-dev librust-slotmap-dev librust-slab-dev gnuplot-nox" ;;
        *) echo "$base" ;;
    esac
}

ensure_packages() {
    local missing=()
    for p in $(packages_for "$1"); do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        say "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    else
        echo "ferry needs these Debian packages: ${missing[*]}" >&2
        echo "install them with:" >&2
        echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
}

# configure_and_build DIR [cmake args...]
configure_and_build() {
    local dir=$1
    shift
    cmake -S "$root" -B "$dir" "$@" >/dev/null
    cmake --build "$dir" -j "$jobs"
}

run_ctest() {
    local dir=$1
    shift
    ctest --test-dir "$dir" --output-on-failure -j "$jobs" "$@"
}

# run_sanitized DIR SANITIZER RUNTIME_SYMBOL [cmake args]: the suites built
# with clang and the sanitizer, after checking it really is in the binaries.
run_sanitized() {
    local dir=$1 sanitizer=$2 symbol=$3
    shift 3
    configure_and_build "$dir" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
        -DFERRY_SANITIZE="$sanitizer" -DFERRY_BUILD_BENCH=OFF -DFERRY_RUST_CRATE_TESTS=OFF "$@"
    for exe in "$dir"/tests/c/test_* "$dir"/tests/mixed/test_* "$dir"/tests/plugin/test_*; do
        [ -x "$exe" ] || continue
        grep -q "$symbol" <(nm "$exe") || { echo "$sanitizer sanitizer missing from $exe" >&2; exit 1; }
    done
    export CK_FORK=no FERRY_TEST_SCALE=${FERRY_TEST_SCALE:-4}
    run_ctest "$dir" -LE big
}

cmd=${1:-demo}
case "$cmd" in
    deps)
        ensure_packages all
        ;;
    demo)
        ensure_packages demo
        configure_and_build build -DFERRY_BUILD_TESTS=ON
        examples/demo.sh build
        ;;
    test)
        ensure_packages test
        configure_and_build build -DFERRY_BUILD_TESTS=ON
        run_ctest build
        ;;
    asan)
        ensure_packages asan
        export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
        export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
        run_sanitized build-asan address __asan_init
        ;;
    tsan)
        ensure_packages tsan
        export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
        # Rust's std is not built with TSan, so the mixed suite would only
        # report false races: TSan covers the C core.
        run_sanitized build-tsan thread __tsan_init -DFERRY_BUILD_RUST=OFF
        ;;
    valgrind)
        ensure_packages valgrind
        configure_and_build build-valgrind -DCMAKE_BUILD_TYPE=Debug -DFERRY_BUILD_BENCH=OFF -DFERRY_RUST_CRATE_TESTS=OFF \
            "-DCMAKE_CROSSCOMPILING_EMULATOR=valgrind;--error-exitcode=99;--leak-check=full;--errors-for-leak-kinds=definite;--track-origins=yes;--quiet"
        export CK_FORK=no FERRY_TEST_SCALE=${FERRY_TEST_SCALE:-20}
        run_ctest build-valgrind -LE big
        ;;
    bench)
        ensure_packages bench
        configure_and_build build-release -DCMAKE_BUILD_TYPE=Release -DFERRY_BUILD_TESTS=OFF
        say "benchmark (writes docs/performance-results.md, docs/performance-plugin-results.md)"
        ./build-release/bench/ferry_bench --markdown docs/performance-results.md
        ./build-release/bench/ferry_bench_plugin build-release/bench/libferry_bench_plugin.so \
            --markdown docs/performance-plugin-results.md
        say "Rust benchmark (writes docs/performance-rust-results.md and the plots docs/perf-*.png)"
        # from bench/rust, where cargo finds the crates' source (.cargo/config.toml)
        (cd bench/rust && FERRY_LIB_DIR="$root/build-release/c/src" CARGO_TARGET_DIR="$root/build-release/bench-rust" \
            cargo build --offline --release)
        ./build-release/bench-rust/release/ferry-bench --markdown docs/performance-rust-results.md \
            --data build-release/bench-data
        gnuplot -e "data='build-release/bench-data'; out='docs'" bench/plot/perf.gp
        ;;
    -h | --help | help)
        sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
        ;;
    *)
        echo "unknown command '$cmd'; try ./build.sh --help" >&2
        exit 2
        ;;
esac
