//! The two things std cannot do that the measurement needs, as bench_core.c
//! does them: pin a thread to one CPU, and tell a repetition where a thread
//! was kept off its CPU by another task. Linux, glibc.
//!
//! Pinning is the only `unsafe` of the crate besides the raw-pointer
//! baselines in `stores.rs`: std has no affinity call.

use std::sync::OnceLock;
use std::time::Instant;

const MASK_WORDS: usize = 16; // 1024 CPUs
type CpuMask = [u64; MASK_WORDS];

extern "C" {
    fn sched_getaffinity(pid: i32, size: usize, mask: *mut CpuMask) -> i32;
    fn sched_setaffinity(pid: i32, size: usize, mask: *const CpuMask) -> i32;
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

/// The calling thread's time waiting on a run queue (runnable, but another
/// task had its CPU), in nanoseconds, from /proc/thread-self/schedstat;
/// None where the kernel does not keep it. Sleeping in a futex (a lock's
/// waiter) is not counted: that is part of what a lock costs.
pub fn thread_wait_ns() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().nth(1)?.parse().ok()
}

/// Wall-clock nanoseconds since the first call, the same clock for every
/// thread (to compare the starts of two threads).
pub fn now_ns() -> f64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as f64
}
