//! Call sites: `#[track_caller]` locations turned into the static
//! "file:line" strings libferry keeps in each slot.

use std::collections::HashMap;
use std::ffi::{c_char, CString};
use std::panic::Location;
use std::sync::{Mutex, OnceLock};

/// A NUL-terminated "file:line" for the location, interned for the life of
/// the process (libferry stores the pointer, never copies it).
pub(crate) fn of(location: &'static Location<'static>) -> *const c_char {
    static SITES: OnceLock<Mutex<HashMap<(usize, u32), &'static CString>>> = OnceLock::new();
    let key = (location.file().as_ptr() as usize, location.line());
    let mut sites = SITES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    sites
        .entry(key)
        .or_insert_with(|| {
            let text = format!("{}:{}", location.file(), location.line()).replace('\0', "?");
            Box::leak(Box::new(
                CString::new(text).expect("no NUL after replacing them"),
            ))
        })
        .as_ptr()
}

/// The site of the caller of the `#[track_caller]` function calling this.
#[track_caller]
pub(crate) fn caller() -> *const c_char {
    of(Location::caller())
}
