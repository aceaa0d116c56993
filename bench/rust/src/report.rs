//! The report: Markdown tables (stdout and --markdown FILE), the verdict on
//! each issue-6 target this benchmark covers, and the data the plots read
//! (--data DIR: results.csv, mixed-threads-*.dat, live-*.dat).

use crate::measure::Op;
use crate::{FERRY_ARC, FERRY_BOX, LOCKED, SHARDED};
use std::fmt::Write as _;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Config {
    One,
    Distinct,
    Shared,
}

impl Config {
    pub fn label(self) -> &'static str {
        match self {
            Config::One => "1 thread",
            Config::Distinct => "2 threads, distinct objects",
            Config::Shared => "2 threads, shared objects",
        }
    }
    fn key(self) -> (&'static str, u32) {
        match self {
            Config::One => ("-", 1),
            Config::Distinct => ("distinct", 2),
            Config::Shared => ("shared", 2),
        }
    }
}

pub struct Row {
    pub op: Op,
    pub live: usize,
    pub config: Config,
    pub name: &'static str,
    pub ns: f64,
    pub low: bool,
}

pub struct RunInfo {
    pub quick: bool,
    pub reps: usize,
    pub rep_ms: f64,
    pub cpus: Vec<usize>,
    pub main_sizes: Vec<usize>,
    pub sweep: Vec<usize>,
    pub order_len: usize,
}

pub fn progress(what: &str) {
    eprintln!("ferry-bench: {what}");
}

fn find(rows: &[Row], op: Op, live: usize, config: Config, name: &str) -> Option<f64> {
    rows.iter()
        .find(|r| r.op == op && r.live == live && r.config == config && r.name == name)
        .map(|r| r.ns)
}

fn cell(rows: &[Row], op: Op, live: usize, config: Config, name: &str) -> String {
    rows.iter()
        .find(|r| r.op == op && r.live == live && r.config == config && r.name == name)
        .map_or("".into(), |r| {
            format!("{:.1}{}", r.ns, if r.low { "*" } else { "" })
        })
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
        _ => "".into(),
    }
}

/// "10^6" for powers of ten.
fn size(n: usize) -> String {
    let mut e = 0;
    let mut m = n;
    while m >= 10 && m.is_multiple_of(10) {
        m /= 10;
        e += 1;
    }
    if m == 1 && e >= 3 {
        format!("10^{e}")
    } else {
        n.to_string()
    }
}

/// The implementations measured for `op`, in their measuring order.
fn names(rows: &[Row], op: Op) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = Vec::new();
    for r in rows.iter().filter(|r| r.op == op) {
        if !v.contains(&r.name) {
            v.push(r.name);
        }
    }
    v
}

fn ferry_for(op: Op) -> &'static str {
    match op {
        Op::CloneDrop | Op::Mixed => FERRY_ARC,
        _ => FERRY_BOX,
    }
}

fn op_title(op: Op) -> &'static str {
    match op {
        Op::Mixed => "mixed workload: 90% get, 5% clone+drop, 5% create+drop",
        Op::Get => "get (ferry: borrow+unborrow) of a random live object",
        Op::CreateDrop => "create+drop (insert+remove) of a new object",
        Op::CloneDrop => "clone+drop of a random live object (reference-counted kinds only)",
        Op::CreateTake => "create+take: a new object, moved back out",
    }
}

/// UTC date and time of now, "YYYY-MM-DD HH:MM".
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60
    )
}

fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!("{model}, {cpus} online CPUs, load average {}", load.trim())
}

fn verdict(out: &mut String, misses: &mut Vec<String>, pass: bool, text: String) {
    let tag = if pass { "PASS" } else { "MISS" };
    let _ = writeln!(out, "- {tag}: {text}");
    if !pass {
        misses.push(text);
    }
}

fn markdown(info: &RunInfo, rows: &[Row]) -> String {
    let mut o = String::new();
    let w = &mut o;
    let _ = writeln!(
        w,
        "# ferry-bench — ferry's Rust `Handle<T>` against raw pointers and the peer designs\n"
    );
    let _ = writeln!(
        w,
        "- when: {} UTC; mode: {}; best of {} repetitions of ~{:.0} ms each, the implementations alternating within each repetition",
        utc_now(),
        if info.quick { "quick (smoke test, fewer and smaller sizes)" } else { "full" },
        info.reps,
        info.rep_ms
    );
    let _ = writeln!(
        w,
        "- build: {}, release profile (codegen-units 1); libferry: the shared library of `build-release`",
        env!("FERRY_BENCH_RUSTC")
    );
    let _ = writeln!(w, "- machine: {}", machine());
    if info.cpus.len() >= 2 {
        let _ = writeln!(
            w,
            "- threads pinned: thread 0 to CPU {}, thread 1 to CPU {}; two-thread repetitions where a thread waited on a run queue (another task had its CPU) or had not started more than 10% of the time are discarded (sleeping on a lock is not discarded: it is the lock's cost) (a figure marked * had no other repetition)",
            info.cpus[0], info.cpus[1]
        );
    } else {
        let _ = writeln!(w, "- fewer than two CPUs allowed: threads not pinned");
    }
    let _ = writeln!(
        w,
        "- objects of 32 bytes; each thread follows its own precomputed random order of {} entries (object index, and the mixed workload's operation drawn 90/5/5)\n",
        info.order_len
    );
    let _ = writeln!(
        w,
        "ns/op is per operation (a pair: get = borrow+unborrow, create+drop, clone+drop, create+take) and, with two threads, per thread. \
         \"÷ ferry\" is the row's ns/op divided by ferry's in the same column: above 1.00x ferry is faster. \
         Distinct objects: each thread uses its own half of the live objects; shared: both threads pick from all of them.\n"
    );
    let _ = writeln!(w, "What one operation is for each implementation:\n");
    let _ = writeln!(
        w,
        "| implementation | get | create+drop | clone+drop | create+take |"
    );
    let _ = writeln!(w, "|---|---|---|---|---|");
    let lines = [
        "| raw Box pointer | read through the pointer | `Box::into_raw(Box::new(v))`, `Box::from_raw` + drop | | `Box::into_raw`, `*Box::from_raw` |",
        "| raw Arc pointer | read through the pointer | `Arc::into_raw(Arc::new(v))`, `Arc::from_raw` + drop | `Arc::increment_strong_count` + `decrement_strong_count` | |",
        "| ferry Handle (Box) | `h.borrow()`, read, guard dropped | `Handle::new(Box::new(v))` + `drop_handle` | | `Handle::new` + `take` |",
        "| ferry Handle (Arc) | `h.borrow()`, read, guard dropped | `Handle::from_arc(Arc::new(v))` + `drop_handle` | `clone_handle` + `drop_handle` | |",
        "| locked map (ffi-support design) | read lock, handle check, entry `Mutex` | insert and remove, each under the write lock | no clone: two gets | insert, remove returning the value |",
        "| sharded-slab | `get` (guard) | `insert` + `remove` | no clone: two gets | `insert` + `take` |",
        "| Mutex<SlotMap> | lock, `get` | lock, `insert`; lock, `remove` | no clone: two gets | `insert` + `remove` |",
        "| Mutex<Slab> | lock, `get` (no generation check) | lock, `insert`; lock, `remove` | no clone: two gets | `insert` + `remove` |",
    ];
    for l in lines {
        let _ = writeln!(w, "{l}");
    }
    let _ = writeln!(
        w,
        "\nIn the mixed workload the raw floor and ferry use their `Arc` kinds (so they can clone); the maps, which hold values and have no reference count, do two gets for a clone+drop. The maps store the object inline; the raw pointers and ferry allocate it (`Box::new`/`Arc::new`) on create, as a user passing it to C would."
    );

    let configs = [Config::One, Config::Distinct, Config::Shared];
    for &live in &info.main_sizes {
        let _ = writeln!(w, "\n## {} live objects\n", size(live));
        for op in [
            Op::Mixed,
            Op::Get,
            Op::CreateDrop,
            Op::CloneDrop,
            Op::CreateTake,
        ] {
            let ferry = ferry_for(op);
            let _ = writeln!(w, "### {}\n", op_title(op));
            let _ = writeln!(
                w,
                "| implementation | 1 thread | 2 threads, distinct | 2 threads, shared | ÷ ferry, 1 thread | ÷ ferry, 2 distinct | ÷ ferry, 2 shared |"
            );
            let _ = writeln!(w, "|---|---:|---:|---:|---:|---:|---:|");
            for name in names(rows, op) {
                let _ = write!(w, "| {name} |");
                for c in configs {
                    let _ = write!(w, " {} |", cell(rows, op, live, c, name));
                }
                for c in configs {
                    let _ = write!(
                        w,
                        " {} |",
                        ratio(
                            find(rows, op, live, c, name),
                            find(rows, op, live, c, ferry)
                        )
                    );
                }
                let _ = writeln!(w);
            }
            let _ = writeln!(w);
        }
    }

    let _ = writeln!(
        w,
        "## ns/op against the number of live objects (1 thread)\n"
    );
    for op in [Op::Mixed, Op::Get, Op::CreateDrop] {
        let _ = writeln!(w, "### {}\n", op_title(op));
        let _ = write!(w, "| implementation |");
        for &n in &info.sweep {
            let _ = write!(w, " {} |", size(n));
        }
        let _ = writeln!(w);
        let _ = writeln!(w, "|---|{}", "---:|".repeat(info.sweep.len()));
        for name in names(rows, op) {
            let _ = write!(w, "| {name} |");
            for &n in &info.sweep {
                let _ = write!(w, " {} |", cell(rows, op, n, Config::One, name));
            }
            let _ = writeln!(w);
        }
        let _ = writeln!(w);
    }

    let _ = writeln!(w, "## Targets (issue 6)\n");
    let mut misses = Vec::new();
    for &live in &info.main_sizes {
        let n = size(live);
        let pair = |op: Op, c: Config, a: &str, b: &str| {
            find(rows, op, live, c, a)
                .zip(find(rows, op, live, c, b))
                .map(|(x, y)| (x, y, x / y))
        };
        if let Some((l, f, r)) = pair(Op::Mixed, Config::One, LOCKED, FERRY_ARC) {
            verdict(w, &mut misses, r >= 3.0, format!(
                "mixed workload, {n} live, 1 thread: the locked map takes {r:.2}x ferry's time ({l:.1} vs {f:.1} ns/op), target >= 3x"));
        }
        if let Some((l, f, r)) = pair(Op::Mixed, Config::Shared, LOCKED, FERRY_ARC) {
            verdict(w, &mut misses, r >= 10.0, format!(
                "mixed workload, {n} live, 2 threads on shared objects: the locked map takes {r:.2}x ferry's time ({l:.1} vs {f:.1} ns/op per thread), target >= 10x"));
        }
        if let Some((f, s, r)) = pair(Op::Get, Config::One, FERRY_BOX, SHARDED) {
            verdict(w, &mut misses, r <= 1.5, format!(
                "get, {n} live, 1 thread: ferry's borrow+unborrow is {r:.2}x sharded-slab's get ({f:.1} vs {s:.1} ns/op), target <= 1.5x"));
        }
        if let Some((f, s, r)) = pair(Op::CreateDrop, Config::One, FERRY_BOX, SHARDED) {
            verdict(w, &mut misses, r <= 1.5, format!(
                "insert+remove, {n} live, 1 thread: ferry's create+drop is {r:.2}x sharded-slab's ({f:.1} vs {s:.1} ns/op), target <= 1.5x"));
        }
        for (op, what) in [(Op::Get, "get"), (Op::CreateDrop, "insert+remove")] {
            if let Some((_, _, r)) = pair(op, Config::Shared, FERRY_BOX, SHARDED) {
                let _ = writeln!(w, "- (for information) {what}, {n} live, 2 threads on shared objects: ferry is {r:.2}x sharded-slab");
            }
        }
    }
    let _ = writeln!(w);
    if misses.is_empty() {
        let _ = writeln!(w, "All targets above met in this run.");
    } else {
        let _ = writeln!(
            w,
            "{} of the targets above missed in this run.",
            misses.len()
        );
    }
    o
}

fn write_data(info: &RunInfo, rows: &[Row], dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut csv =
        String::from("operation,live,threads,objects,implementation,ns_per_op,low_overlap\n");
    for r in rows {
        let (objects, threads) = r.config.key();
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{:.3},{}",
            r.op.label(),
            r.live,
            threads,
            objects,
            r.name,
            r.ns,
            r.low
        );
    }
    std::fs::write(dir.join("results.csv"), csv)?;

    let quoted = |names: &[&str]| {
        names
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(" ")
    };
    // Mixed workload against the thread count, at the largest main size.
    let live = *info.main_sizes.iter().max().expect("a main size");
    let mixed = names(rows, Op::Mixed);
    for (file, two) in [
        ("mixed-threads-shared.dat", Config::Shared),
        ("mixed-threads-distinct.dat", Config::Distinct),
    ] {
        let mut d = format!(
            "# mixed workload, {live} live objects, ns/op per thread\nthreads {}\n",
            quoted(&mixed)
        );
        for (t, c) in [(1, Config::One), (2, two)] {
            let _ = write!(d, "{t}");
            for name in &mixed {
                let v = find(rows, Op::Mixed, live, c, name).unwrap_or(f64::NAN);
                let _ = write!(d, " {v:.3}");
            }
            let _ = writeln!(d);
        }
        std::fs::write(dir.join(file), d)?;
    }
    // Each sweep operation against the number of live objects.
    for (file, op) in [
        ("live-mixed.dat", Op::Mixed),
        ("live-get.dat", Op::Get),
        ("live-create-drop.dat", Op::CreateDrop),
    ] {
        let ns = names(rows, op);
        let mut d = format!("# {}, 1 thread, ns/op\nlive {}\n", op.label(), quoted(&ns));
        for &n in &info.sweep {
            let _ = write!(d, "{n}");
            for name in &ns {
                let v = find(rows, op, n, Config::One, name).unwrap_or(f64::NAN);
                let _ = write!(d, " {v:.3}");
            }
            let _ = writeln!(d);
        }
        std::fs::write(dir.join(file), d)?;
    }
    std::fs::write(dir.join("main-live.txt"), format!("{live}\n"))?;
    Ok(())
}

pub fn write_all(
    info: &RunInfo,
    rows: &[Row],
    markdown_path: Option<&str>,
    data: Option<&str>,
) -> Result<(), String> {
    let md = markdown(info, rows);
    print!("{md}");
    if let Some(p) = markdown_path {
        std::fs::write(p, &md).map_err(|e| format!("cannot write {p}: {e}"))?;
    }
    if let Some(d) = data {
        write_data(info, rows, Path::new(d))
            .map_err(|e| format!("cannot write data to {d}: {e}"))?;
    }
    Ok(())
}
