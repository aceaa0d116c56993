//! ferry-bench: ferry's Rust `Handle<T>` against the unchecked floor (raw
//! `Box`/`Arc` pointers) and the peer designs (an ffi-support-style locked
//! map, sharded-slab, `Mutex<SlotMap>`, `Mutex<Slab>`), in one process and
//! one run, at 1 and 2 threads. Issue 6, part 1; docs/performance.md.
//!
//! Usage: ferry-bench [--quick] [--markdown FILE] [--data DIR] [--reps N]

mod locked_map;
mod measure;
mod os;
mod report;
mod stores;

use measure::{make_order, measure, Bound, Op, Runner, Settings};
use report::{Config, Row};
use stores::*;

pub struct Options {
    pub quick: bool,
    pub markdown: Option<String>,
    pub data: Option<String>,
    pub reps: usize,
    /// Only this operation (for profiling one loop).
    pub only: Option<Op>,
}

fn usage(code: i32) -> ! {
    let text = "usage: ferry-bench [--quick] [--markdown FILE] [--data DIR] [--reps N]\n\
                \x20 --quick          fewer objects, ~10x shorter repetitions, 3 of them (smoke test)\n\
                \x20 --markdown FILE  also write the tables to FILE\n\
                \x20 --data DIR       write results.csv and the plots' gnuplot data files to DIR\n\
                \x20 --reps N         repetitions to keep the best of (default 7)\n\
                \x20 --only OP        measure only OP (get, create+drop, clone+drop, create+take, mixed), e.g. under perf\n";
    if code == 0 {
        print!("{text}");
    } else {
        eprint!("{text}");
    }
    std::process::exit(code)
}

fn parse_args() -> Options {
    let mut o = Options {
        quick: false,
        markdown: None,
        data: None,
        reps: 0,
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--markdown" => o.markdown = Some(args.next().unwrap_or_else(|| usage(2))),
            "--data" => o.data = Some(args.next().unwrap_or_else(|| usage(2))),
            "--reps" => {
                o.reps = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&r| r > 0)
                    .unwrap_or_else(|| usage(2))
            }
            "--only" => {
                let name = args.next().unwrap_or_else(|| usage(2));
                o.only = Some(
                    Op::ALL
                        .into_iter()
                        .find(|op| op.label() == name)
                        .unwrap_or_else(|| usage(2)),
                )
            }
            "-h" | "--help" => usage(0),
            _ => usage(2),
        }
    }
    if o.reps == 0 {
        o.reps = if o.quick { 3 } else { 7 };
    }
    o
}

/// Every store, filled with `live` objects.
struct Stores {
    raw_box: Bound<RawBox>,
    raw_arc: Bound<RawArc>,
    ferry_box: Bound<FerryBox>,
    ferry_arc: Bound<FerryArc>,
    locked: Bound<Locked>,
    sharded: Bound<Sharded>,
    slotmap: Bound<SlotMapMutex>,
    slab: Bound<SlabMutex>,
}

pub const RAW_BOX: &str = "raw Box pointer";
pub const RAW_ARC: &str = "raw Arc pointer";
pub const FERRY_BOX: &str = "ferry Handle (Box)";
pub const FERRY_ARC: &str = "ferry Handle (Arc)";
pub const LOCKED: &str = "locked map (ffi-support design)";
pub const SHARDED: &str = "sharded-slab";
pub const SLOTMAP: &str = "Mutex<SlotMap>";
pub const SLAB: &str = "Mutex<Slab>";

impl Stores {
    fn new(live: usize) -> Stores {
        Stores {
            raw_box: Bound::new(RAW_BOX, RawBox, live),
            raw_arc: Bound::new(RAW_ARC, RawArc, live),
            ferry_box: Bound::new(FERRY_BOX, FerryBox, live),
            ferry_arc: Bound::new(FERRY_ARC, FerryArc, live),
            locked: Bound::new(LOCKED, Locked::default(), live),
            sharded: Bound::new(SHARDED, Sharded::default(), live),
            slotmap: Bound::new(SLOTMAP, SlotMapMutex::default(), live),
            slab: Bound::new(SLAB, SlabMutex::default(), live),
        }
    }

    /// The implementations measured for `op`, the floor first, ferry second.
    fn for_op(&self, op: Op) -> Vec<&dyn Runner> {
        let peers: [&dyn Runner; 4] = [&self.locked, &self.sharded, &self.slotmap, &self.slab];
        let mut v: Vec<&dyn Runner> = match op {
            Op::Get | Op::CreateDrop | Op::CreateTake => vec![&self.raw_box, &self.ferry_box],
            Op::CloneDrop | Op::Mixed => vec![&self.raw_arc, &self.ferry_arc],
        };
        if op != Op::CloneDrop {
            v.extend(peers);
        }
        v
    }
}

fn main() {
    let opt = parse_args();
    let allowed = os::allowed_cpus();
    let cpus: Vec<usize> = if allowed.len() >= 2 {
        allowed[..2].to_vec()
    } else {
        Vec::new()
    };
    let set = Settings {
        reps: opt.reps,
        rep_ns: if opt.quick { 2e6 } else { 20e6 },
        cpus: cpus.clone(),
    };
    // The main tables (every operation, 1 and 2 threads) at these sizes;
    // the live-objects sweep (1 thread, get / create+drop / mixed) at all.
    let main_sizes: Vec<usize> = if opt.quick {
        vec![10_000]
    } else {
        vec![10_000, 1_000_000]
    };
    let sweep: Vec<usize> = if opt.quick {
        vec![1_000, 10_000, 100_000]
    } else {
        vec![1_000, 10_000, 100_000, 1_000_000, 10_000_000]
    };
    let order_len = if opt.quick { 1 << 16 } else { 1 << 20 };
    let mut rows: Vec<Row> = Vec::new();
    for &live in &sweep {
        report::progress(&format!("{live} live objects: filling every store"));
        let stores = Stores::new(live);
        let one = vec![make_order(0, live, order_len, 1)];
        let distinct = vec![
            make_order(0, live / 2, order_len, 2),
            make_order(live / 2, live, order_len, 3),
        ];
        let shared = vec![
            make_order(0, live, order_len, 4),
            make_order(0, live, order_len, 5),
        ];
        let full = main_sizes.contains(&live);
        let ops: &[Op] = if full {
            &[
                Op::Mixed,
                Op::Get,
                Op::CreateDrop,
                Op::CloneDrop,
                Op::CreateTake,
            ]
        } else {
            &[Op::Mixed, Op::Get, Op::CreateDrop]
        };
        for &op in ops.iter().filter(|&&op| opt.only.is_none_or(|o| o == op)) {
            let runners = stores.for_op(op);
            let mut configs = vec![(Config::One, &one)];
            if full {
                configs.push((Config::Distinct, &distinct));
                configs.push((Config::Shared, &shared));
            }
            for (config, orders) in configs {
                report::progress(&format!("{live} live: {} {}", op.label(), config.label()));
                let results = measure(&set, &runners, op, orders);
                for (r, res) in runners.iter().zip(results) {
                    rows.push(Row {
                        op,
                        live,
                        config,
                        name: r.name(),
                        ns: res.ns,
                        low: res.low,
                    });
                }
            }
        }
        report::progress(&format!("{live} live objects: emptying every store"));
        drop(stores);
    }
    let info = report::RunInfo {
        quick: opt.quick,
        reps: opt.reps,
        rep_ms: set.rep_ns / 1e6,
        cpus,
        main_sizes,
        sweep,
        order_len,
    };
    if let Err(e) = report::write_all(&info, &rows, opt.markdown.as_deref(), opt.data.as_deref()) {
        eprintln!("ferry-bench: {e}");
        std::process::exit(2);
    }
}
