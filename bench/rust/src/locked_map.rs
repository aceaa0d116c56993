//! The ffi-support design, written for this benchmark: what Mozilla's
//! `ffi_support::ConcurrentHandleMap` does, and what uniffi moved away from.
//!
//! - a slab of entries, each with a version (generation) that changes on
//!   every insert and every remove (even = occupied), and a free list
//!   threaded through the vacant entries;
//! - a handle packs the map's id, the entry's version and its index in 64
//!   bits, so a handle from another map, a stale handle (use after free,
//!   double free) or a made-up one is refused;
//! - the whole slab sits behind one `RwLock`, and each value behind its own
//!   `Mutex` (`RwLock<Slab<Mutex<T>>>`): a call on an object takes the read
//!   lock, checks the handle, then locks the object's mutex for the call;
//!   insert and remove take the write lock.
//!
//! One deliberate difference: ffi-support packs the index in 16 bits and
//! caps a map at 32,767 entries; here the index has 32 bits (and the
//! version 16, the map id 16) so the same design can hold the 10^6 and more
//! live objects the other implementations are measured with. Nothing else
//! changes with the width.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Mutex, RwLock};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandleError {
    Null,
    WrongMap,
    IndexPastEnd,
    Stale,
}

enum State<T> {
    Occupied(T),
    /// Vacant; the next vacant index, if any.
    Vacant(Option<u32>),
}

struct Entry<T> {
    /// Odd while vacant, even while occupied; starts at 1.
    version: u16,
    state: State<T>,
}

struct Slab<T> {
    id: u16,
    first_vacant: Option<u32>,
    len: usize,
    entries: Vec<Entry<T>>,
}

fn next_map_id() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn pack(map: u16, version: u16, index: u32) -> u64 {
    (u64::from(map) << 48) | (u64::from(version) << 32) | u64::from(index)
}

impl<T> Slab<T> {
    fn check(&self, h: u64) -> Result<usize, HandleError> {
        if h == 0 {
            return Err(HandleError::Null);
        }
        if (h >> 48) as u16 != self.id {
            return Err(HandleError::WrongMap);
        }
        let index = (h & 0xffff_ffff) as usize;
        let entry = self.entries.get(index).ok_or(HandleError::IndexPastEnd)?;
        if entry.version != (h >> 32) as u16 {
            return Err(HandleError::Stale);
        }
        Ok(index)
    }

    fn insert(&mut self, value: T) -> u64 {
        let index = match self.first_vacant {
            Some(i) => i,
            None => {
                let i = u32::try_from(self.entries.len()).expect("locked map: 2^32 entries");
                self.entries.push(Entry {
                    version: 1,
                    state: State::Vacant(None),
                });
                i
            }
        };
        let entry = &mut self.entries[index as usize];
        let State::Vacant(next) = entry.state else {
            unreachable!("locked map: free list points at an occupied entry")
        };
        entry.version = entry.version.wrapping_add(1);
        if entry.version == 0 {
            entry.version = 2; // never 0: a handle of 0 is the null handle
        }
        entry.state = State::Occupied(value);
        self.first_vacant = next;
        self.len += 1;
        pack(self.id, entry.version, index)
    }

    fn get(&self, h: u64) -> Result<&T, HandleError> {
        let index = self.check(h)?;
        match &self.entries[index].state {
            State::Occupied(v) => Ok(v),
            State::Vacant(_) => Err(HandleError::Stale),
        }
    }

    fn remove(&mut self, h: u64) -> Result<T, HandleError> {
        let index = self.check(h)?;
        let entry = &mut self.entries[index];
        let old = std::mem::replace(&mut entry.state, State::Vacant(self.first_vacant));
        match old {
            State::Occupied(v) => {
                entry.version = entry.version.wrapping_add(1);
                self.first_vacant = Some(index as u32);
                self.len -= 1;
                Ok(v)
            }
            State::Vacant(next) => {
                entry.state = State::Vacant(next);
                Err(HandleError::Stale)
            }
        }
    }
}

/// `RwLock<Slab<Mutex<T>>>`: ffi-support's `ConcurrentHandleMap<T>`.
pub struct LockedMap<T> {
    map: RwLock<Slab<Mutex<T>>>,
}

impl<T> Default for LockedMap<T> {
    fn default() -> Self {
        LockedMap {
            map: RwLock::new(Slab {
                id: next_map_id(),
                first_vacant: None,
                len: 0,
                entries: Vec::new(),
            }),
        }
    }
}

impl<T> LockedMap<T> {
    /// Takes the write lock.
    pub fn insert(&self, value: T) -> u64 {
        self.map.write().unwrap().insert(Mutex::new(value))
    }

    /// Takes the read lock, checks the handle, locks the object for `f`
    /// (ffi-support's `call_with_output`).
    pub fn call<R>(&self, h: u64, f: impl FnOnce(&mut T) -> R) -> Result<R, HandleError> {
        let map = self.map.read().unwrap();
        let obj = map.get(h)?;
        let mut guard = obj.lock().unwrap();
        Ok(f(&mut guard))
    }

    /// Takes the write lock; the value comes back out.
    pub fn remove(&self, h: u64) -> Result<T, HandleError> {
        let v = self.map.write().unwrap().remove(h)?;
        Ok(v.into_inner().unwrap())
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.read().unwrap().len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_stale_and_foreign_handles() {
        let m = LockedMap::default();
        let h = m.insert(7u32);
        assert_eq!(m.call(h, |v| *v), Ok(7));
        assert_eq!(m.remove(h), Ok(7));
        assert_eq!(m.call(h, |v| *v), Err(HandleError::Stale));
        assert_eq!(m.remove(h), Err(HandleError::Stale));
        let h2 = m.insert(8);
        assert_ne!(h, h2, "a reused entry has a new version");
        assert_eq!(m.call(h, |v| *v), Err(HandleError::Stale));
        let other = LockedMap::<u32>::default();
        assert_eq!(other.call(h2, |v| *v), Err(HandleError::WrongMap));
        assert_eq!(m.call(0, |v| *v), Err(HandleError::Null));
        assert_eq!(m.len(), 1);
    }
}
