# The performance plots of docs/performance.md, from the data files
# ferry-bench writes with --data DIR (bench/rust):
#
#   gnuplot -e "data='DIR'; out='docs'" bench/plot/perf.gp
#
# writes out/perf-threads.png (mixed workload: ns/op per thread against the
# thread count, shared and distinct objects) and out/perf-live.png (ns/op
# against the number of live objects, 1 thread). With growth='FILE' (the
# CSV `ferry_bench --csv` writes) also out/perf-growth.png: the C table
# growing to 10^7 live handles, time per insert and resident bytes per
# handle. Debian's gnuplot-nox has
# the cairo PNG terminal on some releases only: the plain one otherwise.

if (!exists("data")) data = "."
if (!exists("out")) out = "."

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    term_line = "pngcairo font 'sans,10' linewidth 1.5"
} else {
    term_line = "png font 'sans,10'"
}
eval "set terminal " . term_line . " size 1200,520"

set key autotitle columnhead
set datafile missing "nan"
set grid
set logscale y
set ylabel "ns per operation (per thread)"
set style data linespoints
set key below font ",9" maxrows 2

# --- thread count ----------------------------------------------------------
main_live = system("cat '" . data . "/main-live.txt' 2>/dev/null")
set output out . "/perf-threads.png"
set multiplot layout 1,2 title "ferry vs raw pointers and peer designs: mixed workload (90% get, 5% clone+drop, 5% create+drop), " . main_live . " live objects"
set xlabel "threads"
set xrange [0.8:2.2]
set xtics 1
f = data . "/mixed-threads-shared.dat"
stats f using 1 nooutput
cols = STATS_columns
set title "both threads on the same objects"
plot for [i=2:cols] f using 1:i
f = data . "/mixed-threads-distinct.dat"
set title "each thread on its own half of the objects"
plot for [i=2:cols] f using 1:i
unset multiplot

# --- live objects ----------------------------------------------------------
set output out . "/perf-live.png"
eval "set terminal " . term_line . " size 1500,520"
set multiplot layout 1,3 title "ns per operation against the number of live objects (1 thread)"
set logscale x
set autoscale x
set xtics auto
set format x "10^{%L}"
set xlabel "live objects"
do for [name in "mixed get create-drop"] {
    f = data . "/live-" . name . ".dat"
    stats f using 1 nooutput
    cols = STATS_columns
    set title (name eq "mixed" ? "mixed workload" : name eq "get" ? "get (ferry: borrow+unborrow)" : "create+drop (insert+remove)")
    plot for [i=2:cols] f using 1:i
}
unset multiplot

# --- table growth (C) ---------------------------------------------------------
if (exists("growth")) {
    set output out . "/perf-growth.png"
    eval "set terminal " . term_line . " size 1200,520"
    set datafile separator ","
    set multiplot layout 1,2 title "libferry's table growing from 0 to 10^7 live handles (the C benchmark)"
    set logscale x
    set format x "10^{%L}"
    set xlabel "live handles"
    unset logscale y
    set key off
    set title "time per box while the table grows"
    set ylabel "ns per insert"
    plot growth using 1:2 skip 1 with linespoints
    set title "resident memory per live handle"
    set ylabel "bytes per handle (RSS)"
    set yrange [0:64]
    plot growth using 1:3 skip 1 with linespoints, 48 with lines dashtype 2
    unset multiplot
}
