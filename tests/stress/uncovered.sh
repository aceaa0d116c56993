#!/usr/bin/env bash
# uncovered.sh INFO — lists what an lcov tracefile leaves uncovered, per
# source file: runs of unexecuted lines ("lines 120-124") and lines with a
# branch never taken ("branch 88: 1 of 4 not taken"), with the source text,
# so docs/coverage.md can explain each. Used by ./build.sh coverage.
set -euo pipefail
info=${1:?usage: uncovered.sh file.info}
awk -F'[:,]' '
    /^SF:/ { file = substr($0, 4); files[++nf] = file; next }
    /^DA:/ { if ($3 == 0) { dead[file, $2] = 1; any[file] = 1 } next }
    /^BRDA:/ {
        line = $2; total[file, line]++
        if ($5 == "-" || $5 == 0) { miss[file, line]++; any[file] = 1; bl[file, line] = 1 }
        next
    }
    function src(f, n,    l, i) {
        if (!(f in cache)) {
            i = 0
            while ((getline l < f) > 0) text[f, ++i] = l
            close(f); cache[f] = 1
        }
        l = text[f, n]; sub(/^[ \t]+/, "", l)
        return l
    }
    END {
        for (k = 1; k <= nf; k++) {
            f = files[k]
            if (!(f in any)) continue
            printf "%s\n", f
            start = 0
            for (n = 1; n <= 20000; n++) {
                if ((f, n) in dead) { if (!start) start = n; last = n; continue }
                if (start) {
                    if (start == last) printf "  line %d: %s\n", start, src(f, start)
                    else printf "  lines %d-%d: %s ...\n", start, last, src(f, start)
                    start = 0
                }
                if ((f, n) in bl && !((f, n) in dead))
                    printf "  branch %d: %d of %d not taken: %s\n", n, miss[f, n], total[f, n], src(f, n)
            }
        }
    }' "$info"
