//! Running an operation loop on 1 or 2 pinned threads, calibrated, best of
//! several repetitions, with the implementations alternating inside each
//! repetition so that a noisy moment of the shared machine hurts all alike.

use crate::os;
use crate::stores::{Obj, Store};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};

/// What one measured operation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// A random live object: get (borrow+unborrow for ferry).
    Get,
    /// A new object, then its end (insert+remove).
    CreateDrop,
    /// A new object, then moved back out (insert+take).
    CreateTake,
    /// A random live object: one more reference, then its end.
    CloneDrop,
    /// The FFI call mix: 90% get, 5% clone+drop, 5% create+drop.
    Mixed,
}

impl Op {
    pub const ALL: [Op; 5] = [
        Op::Mixed,
        Op::Get,
        Op::CreateDrop,
        Op::CloneDrop,
        Op::CreateTake,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::CreateDrop => "create+drop",
            Op::CreateTake => "create+take",
            Op::CloneDrop => "clone+drop",
            Op::Mixed => "mixed",
        }
    }
}

/// An order entry: the object's index in the low 30 bits, the mixed
/// workload's operation in the top 2.
pub const IDX_MASK: u32 = (1 << 30) - 1;
const MIX_GET: u32 = 0;
const MIX_CLONE: u32 = 1;
const MIX_CREATE: u32 = 2;

/// A precomputed random access order over objects lo..hi with the mix's
/// operations drawn 90/5/5; `len` is a power of two.
pub fn make_order(lo: usize, hi: usize, len: usize, seed: u64) -> Vec<u32> {
    assert!(len.is_power_of_two() && hi > lo && hi <= IDX_MASK as usize);
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move || {
        // xorshift64*
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let span = (hi - lo) as u64;
    (0..len)
        .map(|_| {
            let idx = lo as u64 + next() % span;
            let op = match next() % 100 {
                0..=89 => MIX_GET,
                90..=94 => MIX_CLONE,
                _ => MIX_CREATE,
            };
            idx as u32 | (op << 30)
        })
        .collect()
}

/// A store with its live objects, measurable through `&dyn Runner`.
pub trait Runner: Sync {
    fn name(&self) -> &'static str;
    /// Runs `n` operations following `order` from `*cursor`; returns a
    /// checksum (so the reads are not optimised away).
    fn run(&self, op: Op, order: &[u32], cursor: &mut usize, n: u64) -> u64;
}

pub struct Bound<S: Store> {
    pub name: &'static str,
    pub store: S,
    pub keys: Vec<S::Key>,
}

impl<S: Store> Bound<S> {
    /// A store with `live` objects.
    pub fn new(name: &'static str, store: S, live: usize) -> Self {
        let keys = (0..live)
            .map(|i| store.insert(Obj::new(i as u64)))
            .collect();
        Bound { name, store, keys }
    }

    /// Ends every live object.
    pub fn clear(&mut self) {
        for k in self.keys.drain(..) {
            self.store.remove(k);
        }
    }
}

impl<S: Store> Drop for Bound<S> {
    fn drop(&mut self) {
        self.clear();
    }
}

impl<S: Store> Runner for Bound<S> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn run(&self, op: Op, order: &[u32], cursor: &mut usize, n: u64) -> u64 {
        let s = &self.store;
        let keys = &self.keys[..];
        let mask = order.len() - 1;
        let mut p = *cursor;
        let mut sum = 0u64;
        macro_rules! each {
            (|$e:ident| $body:expr) => {
                for _ in 0..n {
                    let $e = order[p];
                    p = (p + 1) & mask;
                    sum = sum.wrapping_add($body);
                }
            };
        }
        let key = |e: u32| keys[(e & IDX_MASK) as usize];
        match op {
            Op::Get => each!(|e| s.get(key(e))),
            Op::CloneDrop => each!(|e| s.clone_drop(key(e))),
            Op::CreateDrop => each!(|e| {
                let k = s.insert(Obj::new(u64::from(e)));
                s.remove(black_box(k));
                1
            }),
            Op::CreateTake => each!(|e| {
                let k = s.insert(Obj::new(u64::from(e)));
                s.take(black_box(k)).v[1]
            }),
            Op::Mixed => each!(|e| match e >> 30 {
                MIX_GET => s.get(key(e)),
                MIX_CLONE => s.clone_drop(key(e)),
                _ => {
                    let k = s.insert(Obj::new(u64::from(e)));
                    s.remove(black_box(k));
                    1
                }
            }),
        }
        *cursor = p;
        black_box(sum)
    }
}

pub struct Settings {
    pub reps: usize,
    /// Target duration of one repetition, ns.
    pub rep_ns: f64,
    /// CPUs to pin thread 0 and thread 1 to (empty: no pinning).
    pub cpus: Vec<usize>,
}

/// One implementation's result: best ns/op per thread, and whether no
/// repetition had both threads running together (the figure is then the
/// best of the disturbed ones).
#[derive(Clone, Copy, Debug)]
pub struct Result {
    pub ns: f64,
    pub low: bool,
}

#[derive(Clone, Copy, Default)]
struct Sample {
    t0: f64,
    t1: f64,
    /// Run-queue wait during the run, ns (0 where unknown).
    waited: f64,
}

/// Two-thread repetitions where the threads ran together less than this
/// share of the time are discarded (bench_core.c's rule). A thread counts
/// as not running while it waits on a run queue (another task has its CPU)
/// and before both have started; not while it sleeps on a lock, which is
/// the lock's own cost.
const MIN_OVERLAP: f64 = 0.9;

/// Measures `runners` doing `op`, thread t following `orders[t]` (one
/// order per thread: 1 or 2 threads).
pub fn measure(
    set: &Settings,
    runners: &[&dyn Runner],
    op: Op,
    orders: &[Vec<u32>],
) -> Vec<Result> {
    let threads = orders.len();
    let barrier = Barrier::new(threads);
    let gate = AtomicUsize::new(0);
    let samples: Vec<Mutex<Sample>> = (0..threads).map(|_| Mutex::default()).collect();
    let worker = |t: usize| -> Vec<Result> {
        if set.cpus.len() >= threads {
            os::pin_to(set.cpus[t]);
        }
        let order = &orders[t][..];
        let mut cursor = vec![0usize; runners.len()];
        let mut round = 0usize;
        // Every thread runs `n` ops of runner i, started together; all
        // threads return the same (slowest wall, overlap).
        let mut run_together = |i: usize, n: u64| -> (f64, f64) {
            barrier.wait();
            round += 1;
            gate.fetch_add(1, Ordering::SeqCst);
            while gate.load(Ordering::SeqCst) < round * threads {
                std::hint::spin_loop();
            }
            let w0 = os::thread_wait_ns();
            let t0 = os::now_ns();
            runners[i].run(op, order, &mut cursor[i], n);
            let t1 = os::now_ns();
            let waited = os::thread_wait_ns().zip(w0).map_or(0.0, |(b, a)| b - a);
            *samples[t].lock().unwrap() = Sample { t0, t1, waited };
            barrier.wait();
            let all: Vec<Sample> = samples.iter().map(|s| *s.lock().unwrap()).collect();
            let wall = all.iter().map(|s| s.t1 - s.t0).fold(0.0, f64::max);
            let on = all
                .iter()
                .map(|s| 1.0 - s.waited / (s.t1 - s.t0).max(1.0))
                .fold(f64::INFINITY, f64::min);
            let first = all.iter().map(|s| s.t0).fold(f64::INFINITY, f64::min);
            let last = all.iter().map(|s| s.t0).fold(0.0, f64::max);
            if threads == 1 {
                // Reported (FERRY_BENCH_DEBUG), never used to discard.
                return (wall, on);
            }
            (wall, on - (last - first) / wall.max(1.0))
        };
        let debug = t == 0 && std::env::var_os("FERRY_BENCH_DEBUG").is_some();
        // Calibrate (and warm up): n such that one repetition takes rep_ns.
        let mut ns_n = Vec::with_capacity(runners.len());
        for i in 0..runners.len() {
            let mut n: u64 = 64;
            loop {
                let (wall, _) = run_together(i, n);
                if wall >= set.rep_ns / 16.0 || n >= 1 << 36 {
                    let want = set.rep_ns * n as f64 / wall.max(1.0);
                    ns_n.push(want.max(64.0) as u64);
                    break;
                }
                n *= if wall < set.rep_ns / 1024.0 { 16 } else { 4 };
            }
        }
        let mut best = vec![f64::INFINITY; runners.len()];
        let mut best_any = vec![f64::INFINITY; runners.len()];
        let mut good = vec![0usize; runners.len()];
        for _ in 0..3 * set.reps {
            if good.iter().all(|&g| g >= set.reps) {
                break;
            }
            for i in 0..runners.len() {
                let n = ns_n[i];
                let (wall, overlap) = run_together(i, n);
                let ns = wall / n as f64;
                best_any[i] = best_any[i].min(ns);
                if debug {
                    eprintln!(
                        "  {} {} x{threads}: {ns:.2} ns/op, on CPU {overlap:.3}",
                        runners[i].name(),
                        op.label()
                    );
                }
                if threads == 1 || overlap >= MIN_OVERLAP {
                    good[i] += 1;
                    best[i] = best[i].min(ns);
                }
            }
        }
        (0..runners.len())
            .map(|i| Result {
                ns: if good[i] > 0 { best[i] } else { best_any[i] },
                low: good[i] == 0,
            })
            .collect()
    };
    std::thread::scope(|sc| {
        let worker = &worker;
        let others: Vec<_> = (1..threads).map(|t| sc.spawn(move || worker(t))).collect();
        let first = sc
            .spawn(move || worker(0))
            .join()
            .expect("bench thread panicked");
        for h in others {
            h.join().expect("bench thread panicked");
        }
        first
    })
}
