#!/usr/bin/env bash
# The demo: the examples one after another, each with a few lines on what to
# look for, then one line per program on its ledger. ./build.sh runs it after
# building, and CTest's demo.smoke runs it on the build tree.
#
#   examples/demo.sh BUILD_DIR
#
# Each example is its own process with its own handle table, so each prints
# its own ledger; the summary reads those lines back. The exit status is 1
# when any program failed or did not balance.
set -uo pipefail

build=${1:?usage: examples/demo.sh BUILD_DIR}
ex=$build/examples
# A handle still live when a program exits fails it (status 23), whatever
# the program itself prints.
export FERRY_LEAK_CHECK=1

part() { printf '\n== %s\n' "$1"; shift; printf '   %s\n' "$@"; }

summaries=()
all_ok=1

# count FIELD TEXT: the number after "FIELD " in TEXT (not "FIELD_..."), or empty.
count() { grep -oE "(^|[ ,])$1 [0-9]+" <<<"$2" | head -n 1 | grep -oE '[0-9]+$'; }

# run NAME PROGRAM [ARGS...]: runs it, shows its output and adds its summary line.
run() {
    local name=$1 out rc verdict
    shift
    printf '\n$ %s\n' "$*"
    if [ -x "$1" ]; then
        out=$("$@" 2>&1)
        rc=$?
    else
        out="$1 is not built"
        rc=127
    fi
    printf '%s\n' "$out"

    # The program's first ledger line and the next: its counts for all types
    # (or for its one type).
    local ledger created cloned taken by_c by_rust dropped live made ended eq detail
    ledger=$(awk '/created [0-9]+/ { print; getline; print; exit }' <<<"$out")
    if [ -n "$ledger" ]; then
        created=$(count created "$ledger")
        cloned=$(count cloned "$ledger")
        taken=$(count taken "$ledger")
        by_c=$(count dropped_by_c "$ledger")
        by_rust=$(count dropped_by_rust "$ledger")
        live=$(count live "$ledger")
        if [ -n "$by_c" ]; then
            dropped=$((by_c + ${by_rust:-0}))
        else
            dropped=$(count dropped "$ledger")
        fi
        made=$((${created:-0} + ${cloned:-0}))
        ended=$((${taken:-0} + ${dropped:-0}))
        eq='='
        [ "$made" -eq "$ended" ] || eq='!='
        detail="created ${created:-?} + cloned ${cloned:-?} $eq "
        [ -n "$taken" ] && detail+="taken $taken + "
        detail+="dropped ${dropped:-?}"
        [ -n "$by_c" ] && detail+=" ($by_c by C, ${by_rust:-0} by Rust)"
        detail+="; live ${live:-?}"
    else
        made=0 ended=0
        detail="it printed no ledger"
    fi

    if [ ! -x "$1" ]; then
        verdict="FAILED" detail="$1 is not built"
    elif [ "$rc" -ne 0 ]; then
        verdict="FAILED (exit status $rc)"
    elif [ "${live:-x}" != 0 ] || [ "$made" -ne "$ended" ]; then
        verdict="NOT BALANCED"
    else
        verdict="balanced"
    fi
    [ "$verdict" = balanced ] || all_ok=0
    summaries+=("$(printf '  %-20s %s: %s' "$name" "$verdict" "$detail")")
}

part "0. ferry in one page (C only)" \
    "A C object handed out as checked handles. Look for the drop refused while" \
    "the object is borrowed, and the double free caught with where the handle" \
    "was created and released."
run ferry_demo "$ex/ferry_demo"

part "1. C using a Rust library (examples/c-uses-rust)" \
    "A C program counts words with a Rust word index; it holds a Handle_WordIndex," \
    "never a pointer. Look for the second free: FERRY_E_STALE naming the Rust" \
    "lines that made and freed it, instead of a corrupted heap."
run c-uses-rust "$ex/c-uses-rust/c_uses_rust"

part "2. A C host with Rust plugins (examples/c-host-rust-plugins)" \
    "The host loads every plugin in a directory and calls them by name. Look for" \
    "a buffer moved into caps.shout that cannot be read again, the close refused" \
    "while a plugin's object is alive, and the ledger at the end."
run c-host-rust-plugins "$ex/c-host-rust-plugins/ferry_example_plugins" \
    "$ex/c-host-rust-plugins/plugins"

part "3. Threads handing Arcs around (examples/threads-arcs)" \
    "One Rust Arc<Tally>, five C threads: each worker gets a cloned handle, passes" \
    "a clone of its own to a relay thread through a queue, and drops its handle in" \
    "C or in Rust. Look for Arc::strong_count going from 5 back to 1, and handoffs."
run threads-arcs "$ex/threads-arcs/threads_arcs"

printf '\n== the ledgers (each program ran with FERRY_LEAK_CHECK=1)\n'
printf '%s\n' "${summaries[@]}"
if [ "$all_ok" -eq 1 ]; then
    printf 'every ledger balanced: each handle made was ended exactly once\n'
else
    printf 'NOT every program ran and balanced (see above)\n'
    exit 1
fi
