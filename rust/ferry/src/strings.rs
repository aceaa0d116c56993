//! Strings from C: a borrowed, NUL-terminated UTF-8 argument.

use crate::status::{Error, Result, Status};
use std::ffi::{c_char, CStr};
use std::marker::PhantomData;

/// A `const char *` argument of an exported function: NULL or a
/// NUL-terminated string that stays valid for the call (the C caller's side
/// of the contract, as for any pointer argument). cbindgen emits it as
/// `const char *` when the config maps `CStrArg` (see bindings/*.toml).
#[repr(transparent)]
#[derive(Clone, Copy)]
pub struct CStrArg<'a> {
    ptr: *const c_char,
    _life: PhantomData<&'a CStr>,
}

impl<'a> CStrArg<'a> {
    /// The string as UTF-8; `FERRY_E_NULL` for NULL, `FERRY_E_SIGNATURE` for
    /// bytes that are not UTF-8.
    pub fn to_str(self, name: &str) -> Result<&'a str> {
        if self.ptr.is_null() {
            return Err(Error::new(
                Status::NULL,
                format!("null string argument `{name}`"),
            ));
        }
        // SAFETY: non-NULL; the caller passes a NUL-terminated string valid
        // for the call ('a), per the exported function's signature.
        let s = unsafe { CStr::from_ptr(self.ptr) };
        s.to_str().map_err(|e| {
            Error::new(
                Status::SIGNATURE,
                format!("string argument `{name}` is not UTF-8: {e}"),
            )
        })
    }
}

impl<'a> From<&'a CStr> for CStrArg<'a> {
    fn from(s: &'a CStr) -> Self {
        CStrArg {
            ptr: s.as_ptr(),
            _life: PhantomData,
        }
    }
}
