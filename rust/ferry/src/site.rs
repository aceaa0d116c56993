//! Call sites: `#[track_caller]` locations turned into the static
//! "file:line" strings libferry keeps in each slot.
//!
//! Every create, clone, drop and take looks its site up, so the common case
//! is a lock-free read of a small cache; the interning map behind a mutex
//! only sees each call site once (and any site the cache has no room for).

use std::collections::HashMap;
use std::ffi::{c_char, CString};
use std::panic::Location;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// One cached site. Written once, under the interning lock: `text` and
/// `line` first, then `file` with Release; a reader that Acquires a
/// non-zero `file` sees the other two. Entries are never changed again.
struct Entry {
    file: AtomicUsize,
    line: AtomicU32,
    text: AtomicPtr<c_char>,
}

const CACHE_SLOTS: usize = 1024; // a power of two
const PROBES: usize = 8;

static CACHE: [Entry; CACHE_SLOTS] = [const {
    Entry {
        file: AtomicUsize::new(0),
        line: AtomicU32::new(0),
        text: AtomicPtr::new(null_mut()),
    }
}; CACHE_SLOTS];

fn first_slot(file: usize, line: u32) -> usize {
    (file >> 3 ^ (line as usize).wrapping_mul(0x9E37_79B9)) & (CACHE_SLOTS - 1)
}

/// A NUL-terminated "file:line" for the location, interned for the life of
/// the process (libferry stores the pointer, never copies it).
pub(crate) fn of(location: &'static Location<'static>) -> *const c_char {
    let file = location.file().as_ptr() as usize;
    let line = location.line();
    let start = first_slot(file, line);
    for i in 0..PROBES {
        let e = &CACHE[(start + i) & (CACHE_SLOTS - 1)];
        match e.file.load(Ordering::Acquire) {
            0 => break,
            f if f == file && e.line.load(Ordering::Relaxed) == line => {
                return e.text.load(Ordering::Relaxed);
            }
            _ => {}
        }
    }
    intern(location, file, line, start)
}

/// The slow path: intern the text, then give it a cache entry if one of the
/// site's probe slots is free.
fn intern(
    location: &'static Location<'static>,
    file: usize,
    line: u32,
    start: usize,
) -> *const c_char {
    static SITES: OnceLock<Mutex<HashMap<(usize, u32), &'static CString>>> = OnceLock::new();
    let mut sites = SITES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let text = sites
        .entry((file, line))
        .or_insert_with(|| {
            let text = format!("{}:{}", location.file(), location.line()).replace('\0', "?");
            Box::leak(Box::new(
                CString::new(text).expect("no NUL after replacing them"),
            ))
        })
        .as_ptr();
    for i in 0..PROBES {
        let e = &CACHE[(start + i) & (CACHE_SLOTS - 1)];
        let f = e.file.load(Ordering::Relaxed); // writers hold the lock
        if f == file && e.line.load(Ordering::Relaxed) == line {
            break;
        }
        if f == 0 {
            e.text.store(text.cast_mut(), Ordering::Relaxed);
            e.line.store(line, Ordering::Relaxed);
            e.file.store(file, Ordering::Release);
            break;
        }
    }
    text
}

/// The site of the caller of the `#[track_caller]` function calling this.
#[track_caller]
pub(crate) fn caller() -> *const c_char {
    of(Location::caller())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[track_caller]
    fn here() -> *const c_char {
        caller()
    }

    fn text(site: *const c_char) -> String {
        // SAFETY: interned sites are NUL-terminated and live forever.
        unsafe { CStr::from_ptr(site) }.to_str().unwrap().to_owned()
    }

    #[test]
    fn a_site_is_interned_once_and_reads_file_and_line() {
        let (first, line) = (here(), line!());
        let again: Vec<_> = (0..3).map(|_| here()).collect();
        assert_eq!(text(first), format!("{}:{}", file!(), line));
        assert!(
            again.iter().all(|&s| s == again[0]),
            "one call site, one string"
        );
        assert_ne!(first, again[0], "two call sites, two strings");
    }
}
