//! Types for the mixed C/Rust suite, one per ownership situation, each
//! counting its drops (and clones) in static atomics that C can read through
//! the fixture libraries.
use std::cell::Cell;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

/// Drops and clones, per fixture type.
pub static COUNTER_DROPS: AtomicU64 = AtomicU64::new(0);
pub static COUNTER_CLONES: AtomicU64 = AtomicU64::new(0);
pub static CELL_DROPS: AtomicU64 = AtomicU64::new(0);
pub static NODE_DROPS: AtomicU64 = AtomicU64::new(0);
pub static LOCKED_DROPS: AtomicU64 = AtomicU64::new(0);
pub static PANICKY_DROPS: AtomicU64 = AtomicU64::new(0);

/// Send + Sync, shared as an `Arc`.
pub struct Counter {
    pub value: AtomicI64,
}
impl Clone for Counter {
    fn clone(&self) -> Self {
        COUNTER_CLONES.fetch_add(1, Ordering::SeqCst);
        Counter {
            value: AtomicI64::new(self.value.load(Ordering::SeqCst)),
        }
    }
}
impl Drop for Counter {
    fn drop(&mut self) {
        COUNTER_DROPS.fetch_add(1, Ordering::SeqCst);
    }
}
ferry::export!(Counter, "fixture.Counter", Shared);

/// Send + !Sync (a `Cell`), owned as a `Box`.
pub struct CellBox {
    pub value: Cell<i64>,
}
impl Drop for CellBox {
    fn drop(&mut self) {
        CELL_DROPS.fetch_add(1, Ordering::SeqCst);
    }
}
ferry::export!(CellBox, "fixture.CellBox", Boxed);

/// Reference-counted with `Rc`: never leaves its thread.
pub struct Node {
    pub value: i64,
}
impl Drop for Node {
    fn drop(&mut self) {
        NODE_DROPS.fetch_add(1, Ordering::SeqCst);
    }
}
ferry::export!(Node, "fixture.Node", Local);

/// An `Arc<Mutex<_>>`: shared and mutated from any thread.
pub struct Locked {
    pub inner: Mutex<i64>,
}
impl Drop for Locked {
    fn drop(&mut self) {
        LOCKED_DROPS.fetch_add(1, Ordering::SeqCst);
    }
}
ferry::export!(Locked, "fixture.Locked", Shared);

/// Its methods panic on request.
pub struct Panicky {
    pub pokes: u64,
}
impl Panicky {
    pub fn poke(&mut self, explode: bool) -> u64 {
        assert!(
            !explode,
            "Panicky was asked to explode after {} pokes",
            self.pokes
        );
        self.pokes += 1;
        self.pokes
    }
}
impl Drop for Panicky {
    fn drop(&mut self) {
        PANICKY_DROPS.fetch_add(1, Ordering::SeqCst);
    }
}
ferry::export!(Panicky, "fixture.Panicky", Boxed);
