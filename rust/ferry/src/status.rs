//! Statuses and the error type every fallible call returns.

use crate::sys;
use std::ffi::CStr;
use std::fmt;

/// A `ferry_status`: `Status::OK` or one of the errors of DESIGN.md's table.
/// Exported functions return it to C (cbindgen emits `ferry_status`).
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Status(pub i32);

impl Status {
    pub const OK: Status = Status(0);
    pub const NULL: Status = Status(1);
    pub const INVALID: Status = Status(2);
    pub const STALE: Status = Status(3);
    pub const TYPE: Status = Status(4);
    pub const KIND: Status = Status(5);
    pub const BORROWED: Status = Status(6);
    pub const THREAD: Status = Status(7);
    pub const EXPIRED: Status = Status(8);
    pub const PANIC: Status = Status(9);
    pub const NOMEM: Status = Status(10);
    pub const LIMIT: Status = Status(11);
    pub const BUSY: Status = Status(12);
    pub const ABI: Status = Status(13);
    pub const LOAD: Status = Status(14);
    pub const SIGNATURE: Status = Status(15);

    /// The C name, `"FERRY_E_STALE"`.
    pub fn name(self) -> &'static str {
        // SAFETY: ferry_status_name returns a static, NUL-terminated string
        // for every value, known or not.
        let name = unsafe { CStr::from_ptr(sys::ferry_status_name(self.0)) };
        name.to_str().unwrap_or("FERRY_E_UNKNOWN")
    }

    pub fn is_ok(self) -> bool {
        self == Status::OK
    }
}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed ferry operation: its status and libferry's message (which names
/// the operation, the type, the kind and the call sites).
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    pub status: Status,
    pub message: String,
    /// Whether libferry already recorded it (and applied the error policy).
    pub(crate) recorded: bool,
}

impl Error {
    /// An error with its own message (for the boundary: Rust-side failures).
    pub fn new(status: Status, message: impl Into<String>) -> Error {
        Error {
            status,
            message: message.into(),
            recorded: false,
        }
    }

    /// The error of the ferry call that just returned `status` on this thread.
    pub(crate) fn last(status: Status) -> Error {
        // SAFETY: ferry_last_error never returns NULL; the string is valid
        // until the next failing call on this thread, and we copy it now.
        let message = unsafe { CStr::from_ptr(sys::ferry_last_error()) };
        Error {
            status,
            message: message.to_string_lossy().into_owned(),
            recorded: true,
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Error {
    /// libferry's messages start with the status already; Rust's own get it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.recorded {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.status, self.message)
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Turns a status from libferry into a `Result`.
pub(crate) fn check(status: sys::ferry_status) -> Result<()> {
    if status == 0 {
        Ok(())
    } else {
        Err(Error::last(Status(status)))
    }
}
