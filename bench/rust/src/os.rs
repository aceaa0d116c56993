//! The two things std cannot do that the measurement needs, as bench_core.c
//! does them: pin a thread to one CPU, and read a thread's own CPU time (to
//! tell a repetition where a thread was descheduled). Linux, glibc.
//!
//! These are the only `unsafe` blocks of the crate besides the raw-pointer
//! baselines in `stores.rs`.

use std::sync::OnceLock;
use std::time::Instant;

const MASK_WORDS: usize = 16; // 1024 CPUs
type CpuMask = [u64; MASK_WORDS];

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

const CLOCK_THREAD_CPUTIME_ID: i32 = 3;

extern "C" {
    fn sched_getaffinity(pid: i32, size: usize, mask: *mut CpuMask) -> i32;
    fn sched_setaffinity(pid: i32, size: usize, mask: *const CpuMask) -> i32;
    fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
}

/// The CPUs this process may run on, in order.
pub fn allowed_cpus() -> Vec<usize> {
    let mut mask: CpuMask = [0; MASK_WORDS];
    // SAFETY: pid 0 is the calling thread; the size is that of `mask`, a
    // valid, writable buffer the kernel fills.
    let r = unsafe { sched_getaffinity(0, std::mem::size_of::<CpuMask>(), &mut mask) };
    if r != 0 {
        return Vec::new();
    }
    (0..MASK_WORDS * 64)
        .filter(|c| mask[c / 64] & (1 << (c % 64)) != 0)
        .collect()
}

/// Pins the calling thread to `cpu`; false if the kernel refused.
pub fn pin_to(cpu: usize) -> bool {
    if cpu >= MASK_WORDS * 64 {
        return false;
    }
    let mut mask: CpuMask = [0; MASK_WORDS];
    mask[cpu / 64] |= 1 << (cpu % 64);
    // SAFETY: pid 0 is the calling thread; `mask` is a valid, readable
    // buffer of the size given.
    unsafe { sched_setaffinity(0, std::mem::size_of::<CpuMask>(), &mask) == 0 }
}

/// The calling thread's CPU time, in nanoseconds.
pub fn thread_cpu_ns() -> f64 {
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec (x86_64/aarch64 Linux
    // layout: two 64-bit fields); the clock id is Linux's.
    unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1e9 + ts.tv_nsec as f64
}

/// Wall-clock nanoseconds since the first call, the same clock for every
/// thread (to compare the starts of two threads).
pub fn now_ns() -> f64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as f64
}
