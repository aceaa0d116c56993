#!/usr/bin/env bash
# ferry's one entry point. See README.md.
#
#   ./build.sh            check dependencies, configure, build, run the demo
#   ./build.sh test       build and run every test suite (CTest)
#   ./build.sh asan       the suites built with ASan+UBSan (clang)
#   ./build.sh tsan       the suites built with ThreadSanitizer (clang)
#   ./build.sh valgrind   the suites under valgrind memcheck
#   ./build.sh stress     8-thread stress, 10^7 operations, plain and under TSan
#   ./build.sh coverage   gcc --coverage run of the C suites; lcov report of c/src
#   ./build.sh bench      build in Release and run the benchmarks
#   ./build.sh fuzz [S]   run each libFuzzer target S seconds (default 120; clang)
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
        asan | tsan | fuzz) echo "$base clang libclang-rt-14-dev" ;;
        valgrind) echo "$base valgrind" ;;
        stress) echo "$base clang libclang-rt-14-dev" ;;
        coverage) echo "$base lcov" ;;
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
    stress)
        # tests/stress: FERRY_STRESS_OPS operations (default 10^7) by 8
        # threads, first in a plain build, then under ThreadSanitizer (the
        # tsan command's build directory and configuration).
        ensure_packages stress
        ops=${FERRY_STRESS_OPS:-10000000}
        say "stress: plain build, $ops operations"
        cmake -S "$root" -B build-stress -DFERRY_BUILD_RUST=OFF -DFERRY_BUILD_BENCH=OFF \
            -DFERRY_BUILD_EXAMPLES=OFF -DFERRY_RUST_CRATE_TESTS=OFF >/dev/null
        cmake --build build-stress -j "$jobs" --target ferry_stress
        build-stress/tests/stress/ferry_stress "$ops"
        say "stress: ThreadSanitizer build, $ops operations"
        cmake -S "$root" -B build-tsan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
            -DFERRY_SANITIZE=thread -DFERRY_BUILD_BENCH=OFF -DFERRY_RUST_CRATE_TESTS=OFF \
            -DFERRY_BUILD_RUST=OFF >/dev/null
        cmake --build build-tsan -j "$jobs" --target ferry_stress
        grep -q __tsan_init <(nm build-tsan/tests/stress/ferry_stress) ||
            { echo "thread sanitizer missing from ferry_stress" >&2; exit 1; }
        TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" build-tsan/tests/stress/ferry_stress "$ops"
        # FERRY_TRACE=1: the backtrace records beside the table are written and
        # read (stale-handle messages) while slots are reused; fewer
        # operations, since each create and end then takes a backtrace.
        traced_ops=$((ops / 30))
        say "stress: ThreadSanitizer build, FERRY_TRACE=1, $traced_ops operations"
        FERRY_TRACE=1 TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
            build-tsan/tests/stress/ferry_stress "$traced_ops"
        ;;
    coverage)
        # docs/coverage.md: the suites (tests/c, the C and Rust plugin
        # suites, the mixed C/Rust suites, the CLI, the fuzz corpus replays,
        # the stress program scaled down) in a gcc --coverage build; line and
        # branch figures of c/src only. Reports, never fails on the figures.
        ensure_packages coverage
        dir=build-coverage
        configure_and_build "$dir" -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Debug -DFERRY_COVERAGE=ON \
            -DFERRY_BUILD_RUST=ON -DFERRY_BUILD_BENCH=OFF -DFERRY_BUILD_EXAMPLES=OFF -DFERRY_RUST_CRATE_TESTS=OFF
        lcov_rc=(--rc lcov_branch_coverage=1 --quiet)
        lcov "${lcov_rc[@]}" --zerocounters --directory "$dir"
        say "coverage: running the C suites"
        CK_FORK=no FERRY_TEST_SCALE=${FERRY_TEST_SCALE:-4} FERRY_STRESS_OPS=${FERRY_STRESS_OPS:-200000} \
            run_ctest "$dir" -L '^(c|plugin|cli|helpers|stress|fuzz|mixed)$' -LE big || true
        lcov "${lcov_rc[@]}" --capture --directory "$dir" --output-file "$dir/all.info"
        lcov "${lcov_rc[@]}" --extract "$dir/all.info" "$root/c/src/*" --output-file "$dir/ferry.info"
        genhtml "${lcov_rc[@]}" --branch-coverage --title "libferry (c/src)" --prefix "$root" \
            --output-directory "$dir/html" "$dir/ferry.info"
        say "coverage of c/src (target: 95% of lines, 90% of branches)"
        lcov "${lcov_rc[@]}" --list "$dir/ferry.info" | tee "$dir/summary.txt"
        lcov --rc lcov_branch_coverage=1 --summary "$dir/ferry.info" 2>&1 | tee -a "$dir/summary.txt"
        say "uncovered lines and branches of c/src ($dir/uncovered.txt; HTML: $dir/html/index.html)"
        tests/stress/uncovered.sh "$dir/ferry.info" | tee "$dir/uncovered.txt"
        ;;
    bench)
        ensure_packages bench
        configure_and_build build-release -DCMAKE_BUILD_TYPE=Release -DFERRY_BUILD_TESTS=OFF
        say "benchmark (writes docs/performance-results.md, docs/performance-plugin-results.md)"
        ./build-release/bench/ferry_bench --markdown docs/performance-results.md --csv docs/perf-growth.csv
        ./build-release/bench/ferry_bench_plugin build-release/bench/libferry_bench_plugin.so \
            --markdown docs/performance-plugin-results.md
        say "FERRY_TRACE benchmark (writes docs/performance-trace-results.md)"
        ./build-release/bench/ferry_bench_trace --baseline build-release/bench/ferry_bench_trace_baseline \
            --markdown docs/performance-trace-results.md
        say "Rust benchmark (writes docs/performance-rust-results.md and the plots docs/perf-*.png)"
        # from bench/rust, where cargo finds the crates' source (.cargo/config.toml)
        (cd bench/rust && FERRY_LIB_DIR="$root/build-release/c/src" CARGO_TARGET_DIR="$root/build-release/bench-rust" \
            cargo build --offline --release)
        ./build-release/bench-rust/release/ferry-bench --markdown docs/performance-rust-results.md \
            --data build-release/bench-data
        gnuplot -e "data='build-release/bench-data'; out='docs'; growth='docs/perf-growth.csv'" \
            bench/plot/perf.gp
        ;;
    fuzz)
        # tests/fuzz/README.md: each libFuzzer target runs SECONDS (default
        # 120) on the seed corpus plus a scratch corpus in build-fuzz/; a
        # crash fails the command and names the input it saved.
        ensure_packages fuzz
        secs=${2:-120}
        targets="model sigparse desc plugin_file"
        cmake -S "$root" -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
            -DFERRY_SANITIZE=address -DFERRY_FUZZ=ON -DFERRY_BUILD_RUST=OFF -DFERRY_BUILD_BENCH=OFF \
            -DFERRY_BUILD_EXAMPLES=OFF -DFERRY_RUST_CRATE_TESTS=OFF >/dev/null
        cmake --build build-fuzz -j "$jobs" --target $(for t in $targets; do echo "fuzz_$t fuzz_replay_$t"; done)
        export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
        export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
        failed=""
        for t in $targets; do
            corpus=build-fuzz/fuzz-corpus/$t crashes=build-fuzz/fuzz-crashes/$t
            mkdir -p "$corpus" "$crashes"
            extra=()
            case $t in
                model) extra=(-dict=tests/fuzz/model.dict) ;;
                sigparse) extra=(-dict=tests/fuzz/sigparse.dict) ;;
                plugin_file)
                    # mutation mode: the real plugin and a truncated copy as seeds
                    so=build-fuzz/tests/fuzz/libfuzz_desc_plugin.so
                    cp "$so" "$corpus/real.so"
                    head -c 3000 "$so" >"$corpus/truncated.so"
                    ;;
            esac
            say "fuzz_$t for ${secs}s"
            log=build-fuzz/fuzz-$t.log
            if ./build-fuzz/tests/fuzz/fuzz_$t -max_total_time="$secs" -print_final_stats=1 \
                -artifact_prefix="$crashes/" "${extra[@]}" "$corpus" tests/fuzz/corpus/$t \
                tests/fuzz/regressions/$t >"$log" 2>&1; then
                grep -E '^Done [0-9]+ runs' "$log" || tail -n 5 "$log"
                grep -E 'inputs crash the loader' "$log" | tail -n 1 || true
            else
                tail -n 40 "$log"
                echo "fuzz_$t FAILED; crash input(s):" >&2
                ls -1 "$crashes"/* >&2 || true
                failed="$failed $t"
            fi
        done
        [ -z "$failed" ] || { echo "fuzzers that found a crash:$failed (logs: build-fuzz/fuzz-*.log)" >&2; exit 1; }
        ;;
    -h | --help | help)
        sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
        ;;
    *)
        echo "unknown command '$cmd'; try ./build.sh --help" >&2
        exit 2
        ;;
esac
