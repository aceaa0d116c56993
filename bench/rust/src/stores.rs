//! Every implementation measured, behind one small interface: a store of
//! objects reached through keys (a pointer, a handle, an index).

use crate::locked_map::LockedMap;
use ferry::Handle;
use std::sync::{Arc, Mutex};

/// The object every implementation holds: 32 bytes (the C benchmark's
/// malloc(32) floor).
#[derive(Clone, Copy)]
pub struct Obj {
    pub v: [u64; 4],
}

impl Obj {
    pub fn new(x: u64) -> Obj {
        Obj {
            v: [x, x ^ 1, x ^ 2, x ^ 3],
        }
    }
}

/// A unique ferry type (`Handle::new`, `take`).
pub struct BoxObj(pub Obj);
ferry::export!(BoxObj, "bench.BoxObj", Boxed);

/// A shared ferry type (`Handle::from_arc`, `clone_handle`).
pub struct ArcObj(pub Obj);
ferry::export!(ArcObj, "bench.ArcObj", Shared);

pub trait Store: Sync {
    type Key: Copy + Send + Sync;
    /// Makes a new object live; the key reaches it.
    fn insert(&self, v: Obj) -> Self::Key;
    /// Reads the object (a borrow for ferry, a lookup for the maps).
    fn get(&self, k: Self::Key) -> u64;
    /// Ends the object.
    fn remove(&self, k: Self::Key);
    /// Ends the key and moves the object out.
    fn take(&self, k: Self::Key) -> Obj;
    /// One more reference, then its end. Stores without reference counts
    /// do two lookups instead (say so in the report).
    fn clone_drop(&self, k: Self::Key) -> u64 {
        self.get(k).wrapping_add(self.get(k))
    }
}

// --- the unchecked floor -----------------------------------------------------

/// `Box::into_raw` / `Box::from_raw`: what C gets with no checks at all.
/// Keys are the pointers as integers.
#[derive(Default)]
pub struct RawBox;

impl Store for RawBox {
    type Key = usize;
    fn insert(&self, v: Obj) -> usize {
        Box::into_raw(Box::new(v)) as usize
    }
    fn get(&self, k: usize) -> u64 {
        // SAFETY: k came from Box::into_raw in insert and the benchmark
        // reads a key only while it is live (removed keys are never used).
        unsafe { (*(k as *const Obj)).v[0] }
    }
    fn remove(&self, k: usize) {
        // SAFETY: k came from Box::into_raw and is removed exactly once.
        drop(unsafe { Box::from_raw(k as *mut Obj) });
    }
    fn take(&self, k: usize) -> Obj {
        // SAFETY: as remove.
        *unsafe { Box::from_raw(k as *mut Obj) }
    }
}

/// `Arc::into_raw` with `increment/decrement_strong_count`: the floor of a
/// shared object passed as a raw pointer.
#[derive(Default)]
pub struct RawArc;

impl Store for RawArc {
    type Key = usize;
    fn insert(&self, v: Obj) -> usize {
        Arc::into_raw(Arc::new(v)) as usize
    }
    fn get(&self, k: usize) -> u64 {
        // SAFETY: k came from Arc::into_raw and its strong reference is
        // held until remove; the benchmark never reads a removed key.
        unsafe { (*(k as *const Obj)).v[0] }
    }
    fn remove(&self, k: usize) {
        // SAFETY: k is one strong reference from Arc::into_raw, given back
        // exactly once.
        drop(unsafe { Arc::from_raw(k as *const Obj) });
    }
    fn take(&self, k: usize) -> Obj {
        // SAFETY: as remove.
        *unsafe { Arc::from_raw(k as *const Obj) }
    }
    fn clone_drop(&self, k: usize) -> u64 {
        let p = k as *const Obj;
        // SAFETY: p came from Arc::into_raw and its strong reference is
        // live (held by the key), so the count is at least 1 here.
        unsafe { Arc::increment_strong_count(p) };
        // SAFETY: ends the reference just added; the key's own remains.
        unsafe { Arc::decrement_strong_count(p) };
        0
    }
}

// --- ferry ---------------------------------------------------------------------

/// ferry's `Handle<T>` of a unique (Box) type.
#[derive(Default)]
pub struct FerryBox;

impl Store for FerryBox {
    type Key = Handle<BoxObj>;
    fn insert(&self, v: Obj) -> Self::Key {
        Handle::new(Box::new(BoxObj(v))).expect("Handle::new")
    }
    fn get(&self, k: Self::Key) -> u64 {
        k.borrow().expect("Handle::borrow").0.v[0]
    }
    fn remove(&self, k: Self::Key) {
        k.drop_handle().expect("Handle::drop_handle")
    }
    fn take(&self, k: Self::Key) -> Obj {
        k.take().expect("Handle::take").0
    }
}

/// ferry's `Handle<T>` of a shared (Arc) type.
#[derive(Default)]
pub struct FerryArc;

impl Store for FerryArc {
    type Key = Handle<ArcObj>;
    fn insert(&self, v: Obj) -> Self::Key {
        Handle::from_arc(Arc::new(ArcObj(v))).expect("Handle::from_arc")
    }
    fn get(&self, k: Self::Key) -> u64 {
        k.borrow().expect("Handle::borrow").0.v[0]
    }
    fn remove(&self, k: Self::Key) {
        k.drop_handle().expect("Handle::drop_handle")
    }
    fn take(&self, k: Self::Key) -> Obj {
        k.to_arc().expect("Handle::to_arc").0
    }
    fn clone_drop(&self, k: Self::Key) -> u64 {
        let c = k.clone_handle().expect("Handle::clone_handle");
        c.drop_handle().expect("Handle::drop_handle");
        0
    }
}

// --- peers -----------------------------------------------------------------------

/// The ffi-support design (`locked_map.rs`).
#[derive(Default)]
pub struct Locked(LockedMap<Obj>);

impl Store for Locked {
    type Key = u64;
    fn insert(&self, v: Obj) -> u64 {
        self.0.insert(v)
    }
    fn get(&self, k: u64) -> u64 {
        self.0.call(k, |o| o.v[0]).expect("locked map get")
    }
    fn remove(&self, k: u64) {
        self.0.remove(k).expect("locked map remove");
    }
    fn take(&self, k: u64) -> Obj {
        self.0.remove(k).expect("locked map remove")
    }
}

/// `sharded_slab::Slab`: lock-free, per-thread shards, generation-checked keys.
#[derive(Default)]
pub struct Sharded(sharded_slab::Slab<Obj>);

impl Store for Sharded {
    type Key = usize;
    fn insert(&self, v: Obj) -> usize {
        self.0.insert(v).expect("sharded-slab full")
    }
    fn get(&self, k: usize) -> u64 {
        self.0.get(k).expect("sharded-slab get").v[0]
    }
    fn remove(&self, k: usize) {
        assert!(self.0.remove(k), "sharded-slab remove");
    }
    fn take(&self, k: usize) -> Obj {
        self.0.take(k).expect("sharded-slab take")
    }
}

/// `Mutex<slotmap::SlotMap>`: generation-checked keys, one lock.
#[derive(Default)]
pub struct SlotMapMutex(Mutex<slotmap::SlotMap<slotmap::DefaultKey, Obj>>);

impl Store for SlotMapMutex {
    type Key = slotmap::DefaultKey;
    fn insert(&self, v: Obj) -> Self::Key {
        self.0.lock().unwrap().insert(v)
    }
    fn get(&self, k: Self::Key) -> u64 {
        self.0.lock().unwrap().get(k).expect("slotmap get").v[0]
    }
    fn remove(&self, k: Self::Key) {
        self.0.lock().unwrap().remove(k).expect("slotmap remove");
    }
    fn take(&self, k: Self::Key) -> Obj {
        self.0.lock().unwrap().remove(k).expect("slotmap remove")
    }
}

/// `Mutex<slab::Slab>`: plain indices, no generation (a stale key reads
/// whatever reuses the slot), one lock.
#[derive(Default)]
pub struct SlabMutex(Mutex<slab::Slab<Obj>>);

impl Store for SlabMutex {
    type Key = usize;
    fn insert(&self, v: Obj) -> usize {
        self.0.lock().unwrap().insert(v)
    }
    fn get(&self, k: usize) -> u64 {
        self.0.lock().unwrap().get(k).expect("slab get").v[0]
    }
    fn remove(&self, k: usize) {
        self.0.lock().unwrap().remove(k);
    }
    fn take(&self, k: usize) -> Obj {
        self.0.lock().unwrap().remove(k)
    }
}
