//! Lend scopes: C may borrow a Rust value for exactly as long as a closure
//! runs. The handle is revoked when the closure returns or panics.

use crate::handle::Handle;
use crate::site;
use crate::status::{check, Result};
use crate::sys;
use crate::types::Exported;
use std::ffi::{c_char, c_void, CStr};
use std::marker::PhantomData;

/// Revokes the lent handle when the scope ends, however it ends.
struct Revoke<'v> {
    handle: sys::ferry_handle,
    site: *const c_char,
    _value: PhantomData<&'v ()>,
}

impl Drop for Revoke<'_> {
    fn drop(&mut self) {
        // SAFETY: ends the lend this guard made.
        let status = unsafe { sys::ferry_revoke_at(self.handle, sys::FERRY_BY_RUST, self.site) };
        // If C ended the lend itself (the handle is stale), no borrow can be
        // left: revoking refuses while one is. But if C still borrows the
        // value, returning would let C use freed memory: stop here, as a
        // sanitizer would.
        if status == crate::Status::BORROWED.0 {
            // SAFETY: ferry_last_error never returns NULL.
            let why = unsafe { CStr::from_ptr(sys::ferry_last_error()) };
            // Never eprintln!: it panics when stderr is gone, and a panic
            // here would skip the abort and free the value C still borrows.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "ferry: a lend scope cannot end safely: {}",
                why.to_string_lossy()
            );
            std::process::abort();
        }
    }
}

/// Makes the lent handle with `make`, runs `f`, and revokes on the way out.
fn scope<T: Exported, R>(
    site: *const c_char,
    make: impl FnOnce(*const sys::ferry_type, &mut sys::ferry_handle) -> sys::ferry_status,
    f: impl FnOnce(Handle<T>) -> R,
) -> Result<R> {
    let t = T::ferry_type()?;
    let mut out = sys::ferry_handle::default();
    check(make(t.as_ptr(), &mut out))?;
    let _revoke = Revoke {
        handle: out,
        site,
        _value: PhantomData,
    };
    Ok(f(Handle::from_raw(out)))
}

/// Lends `value` to C as a handle C may `ferry_borrow` (not drop, take or
/// clone) while `f` runs. If C still holds a borrow when `f` returns, the
/// process aborts with the reason: the value is about to go away.
#[track_caller]
pub fn lend<T: Exported, R>(value: &T, f: impl FnOnce(Handle<T>) -> R) -> Result<R> {
    let site = site::caller();
    let obj = (value as *const T).cast::<c_void>();
    // SAFETY: value outlives the lend: scope's Revoke guard ends it before
    // this function returns or unwinds.
    scope(
        site,
        |t, out| unsafe { sys::ferry_lend_at(t, obj, out, site) },
        f,
    )
}

/// Lends `value` mutably: C may also `ferry_borrow_mut` it while `f` runs.
#[track_caller]
pub fn lend_mut<T: Exported, R>(value: &mut T, f: impl FnOnce(Handle<T>) -> R) -> Result<R> {
    let site = site::caller();
    let obj = (value as *mut T).cast::<c_void>();
    // SAFETY: as in lend; the &mut keeps Rust away from value meanwhile.
    scope(
        site,
        |t, out| unsafe { sys::ferry_lend_mut_at(t, obj, out, site) },
        f,
    )
}
