//! The panic boundary every exported function goes through: no panic and no
//! error leaves Rust other than as a `Status` plus the last-error message.

use crate::status::{Error, Status};
use crate::sys;
use std::any::Any;
use std::ffi::CString;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};

/// What a boundary closure may return.
pub trait IntoStatus {
    fn into_status(self, op: &str) -> Status;
}

impl IntoStatus for () {
    fn into_status(self, _op: &str) -> Status {
        Status::OK
    }
}

impl IntoStatus for Status {
    fn into_status(self, _op: &str) -> Status {
        self
    }
}

impl<E: Into<Error>> IntoStatus for Result<(), E> {
    fn into_status(self, op: &str) -> Status {
        match self {
            Ok(()) => Status::OK,
            Err(e) => {
                let e = e.into();
                if !e.recorded {
                    report(e.status, op, &e.message);
                }
                e.status
            }
        }
    }
}

fn report(status: Status, op: &str, message: &str) {
    let op = CString::new(op.replace('\0', "?")).unwrap_or_default();
    let message = CString::new(message.replace('\0', "?")).unwrap_or_default();
    // SAFETY: both strings are NUL-terminated and outlive the call, which
    // copies them into the thread's last-error message.
    unsafe { sys::ferry_report_error(status.0, op.as_ptr(), message.as_ptr()) };
}

fn payload_text(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(a panic payload that is not a string)")
}

pub(crate) fn report_panic(what: &str, payload: &(dyn Any + Send)) {
    report(
        Status::PANIC,
        what,
        &format!("Rust code panicked: {}", payload_text(payload)),
    );
}

/// Runs `f`, turning a panic into `Status::PANIC` and an error into its
/// status, with the message in `ferry_last_error()` (the panic's text
/// included). Use it in every `extern "C"` function:
///
/// ```ignore
/// #[no_mangle]
/// pub extern "C" fn point_norm(h: Handle<Point>, out: *mut f64) -> Status {
///     ferry::boundary(|| { /* ... */ Ok::<(), ferry::Error>(()) })
/// }
/// ```
#[track_caller]
pub fn boundary<R: IntoStatus>(f: impl FnOnce() -> R) -> Status {
    let at = Location::caller();
    boundary_as(|| format!("{}:{}", at.file(), at.line()), f)
}

/// [`boundary`] naming the operation `op()` in messages instead of the
/// caller's location (a plugin's shims name the function).
pub(crate) fn boundary_as<R: IntoStatus>(op: impl Fn() -> String, f: impl FnOnce() -> R) -> Status {
    // The conversion runs user code too (From<E> for Error, E's Drop).
    match catch_unwind(AssertUnwindSafe(|| f().into_status(&op()))) {
        Ok(s) => s,
        Err(payload) => {
            report_panic(&op(), payload.as_ref());
            // A payload whose Drop panics must not escape either.
            if catch_unwind(AssertUnwindSafe(|| drop(payload))).is_err() {
                std::process::abort();
            }
            Status::PANIC
        }
    }
}

/// The common shape of an exported function with one out-parameter: checks
/// `out` first (NULL is `FERRY_E_NULL`, and then nothing else happens), runs
/// `f` inside [`boundary`], and writes its value only on success.
///
/// ```ignore
/// #[no_mangle]
/// pub extern "C" fn point_new(x: f64, out: Option<&mut Handle<Point>>) -> ferry::Status {
///     ferry::boundary_out(out, "out", || Handle::new(Box::new(Point { x })))
/// }
/// ```
#[track_caller]
pub fn boundary_out<T, E: Into<Error>>(
    out: Option<&mut T>,
    name: &str,
    f: impl FnOnce() -> Result<T, E>,
) -> Status {
    boundary(|| {
        let slot = crate::out(out, name)?;
        *slot = f().map_err(Into::into)?;
        Ok::<(), Error>(())
    })
}
