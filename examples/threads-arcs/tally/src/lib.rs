//! A tally that many threads add to at once. It lives in one `Arc<Tally>`;
//! each `Handle_Tally` C holds is one strong reference to it, so C can clone
//! handles, give them to other threads and drop them in any order, and the
//! tally goes away when the last one is dropped — on whichever side.
use ferry::{boundary, boundary_out, out, Error, Handle};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};

/// Times a Tally was freed, so C can see the Arc's last reference end once.
static FREED: AtomicU64 = AtomicU64::new(0);

/// Shared, so every field is safe to use through `&Tally` from any thread:
/// the sum is an atomic (no lock on the hot path), the set of threads that
/// added is behind a Mutex.
#[derive(Default)]
pub struct Tally {
    total: AtomicU64,
    threads: Mutex<HashSet<ThreadId>>,
}

impl Drop for Tally {
    fn drop(&mut self) {
        FREED.fetch_add(1, Ordering::SeqCst);
    }
}

ferry::export!(Tally, "tally.Tally", Shared);

/// A new tally at 0 in *out: one strong reference. Clone it with
/// ferry_clone; each handle is dropped once, with ferry_drop or tally_release.
#[no_mangle]
pub extern "C" fn tally_new(out_h: Option<&mut Handle<Tally>>) -> ferry::Status {
    boundary_out(out_h, "out", || Handle::from_arc(Arc::<Tally>::default()))
}

/// Adds n and remembers the calling thread; any thread, any handle of the tally.
#[no_mangle]
pub extern "C" fn tally_add(h: Handle<Tally>, n: u64) -> ferry::Status {
    boundary(|| {
        let tally = h.borrow()?;
        tally.total.fetch_add(n, Ordering::Relaxed);
        // A poisoned lock only means another adder panicked; the set is intact.
        let mut threads = tally.threads.lock().unwrap_or_else(|e| e.into_inner());
        threads.insert(thread::current().id());
        Ok::<(), Error>(())
    })
}

/// The sum so far and how many distinct threads added to it.
#[no_mangle]
pub extern "C" fn tally_read(
    h: Handle<Tally>,
    total: Option<&mut u64>,
    threads: Option<&mut u64>,
) -> ferry::Status {
    boundary(|| {
        // Both out-pointers first: a failed call must change nothing.
        let (total, threads) = (out(total, "total")?, out(threads, "threads")?);
        let tally = h.borrow()?;
        *total = tally.total.load(Ordering::Relaxed);
        *threads = tally
            .threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len() as u64;
        Ok::<(), Error>(())
    })
}

/// `Arc::strong_count` as Rust sees it: one per live handle (Rust holds none
/// of its own). To reach the Arc, it takes a clone of h back out as an Arc
/// (the ledger counts that clone and that take) and does not count it.
#[no_mangle]
pub extern "C" fn tally_strong_count(h: Handle<Tally>, count: Option<&mut u64>) -> ferry::Status {
    boundary_out(count, "count", || {
        let arc = h.clone_handle()?.to_arc()?;
        Ok::<_, Error>(Arc::strong_count(&arc) as u64 - 1)
    })
}

/// Rust drops the handle (the ledger counts a drop by Rust); the tally is
/// freed if it was the last one.
#[no_mangle]
pub extern "C" fn tally_release(h: Handle<Tally>) -> ferry::Status {
    boundary(|| h.drop_handle())
}

/// How many tallies have been freed so far.
#[no_mangle]
pub extern "C" fn tally_freed() -> u64 {
    FREED.load(Ordering::SeqCst)
}
