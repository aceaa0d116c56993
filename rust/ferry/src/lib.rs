//! The Rust half of ferry: Rust objects (`Box`, `Arc`, `Rc`, `Weak`,
//! borrows) reachable from C through libferry's checked handles, objects a C
//! host owns held safely in Rust, the panic boundary, and plugins.
//!
//! There is one handle table per process, in libferry; this crate only calls
//! it and never carries its own copy (see `build.rs`).
#![deny(unsafe_op_in_unsafe_fn)]

mod boundary;
mod handle;
mod host;
mod lend;
pub mod plugin;
mod site;
mod status;
mod strings;
pub mod sys;
pub mod testing;
mod types;

pub use boundary::{boundary, boundary_out, IntoStatus};
pub use handle::{Handle, Kind, Ref, RefMut};
pub use host::{HostLayout, HostRef, Owned, Plain};
pub use lend::{lend, lend_mut};
pub use status::{Error, Result, Status};
pub use strings::CStrArg;
pub use types::{autotraits, kind, register_once, Exported, Ownership, TypeDesc, TypeRef};

#[doc(hidden)]
pub use host::assert_plain;
#[doc(hidden)]
pub use types::c_name as types_c_name;
#[doc(hidden)]
pub use types::host_type as host_type_named;

/// The out-parameter of an exported function, as `Option<&mut T>` (which
/// has the ABI of a nullable `T *`): a NULL from C is `FERRY_E_NULL`.
pub fn out<'a, T>(out: Option<&'a mut T>, name: &str) -> Result<&'a mut T> {
    out.ok_or_else(|| Error::new(Status::NULL, format!("null out-pointer `{name}`")))
}

/// The ledger of one type (or of all types with `None`).
pub fn ledger(t: Option<TypeRef>) -> sys::ferry_counts {
    let mut out = sys::ferry_counts::default();
    // SAFETY: out is valid; t is NULL or registered.
    unsafe { sys::ferry_ledger(t.map_or(std::ptr::null(), TypeRef::as_ptr), &mut out) };
    out
}

/// The ledger of `T`.
pub fn ledger_of<T: Exported>() -> Result<sys::ferry_counts> {
    Ok(ledger(Some(T::ferry_type()?)))
}

/// Live handles of all types in the process.
pub fn live() -> usize {
    // SAFETY: plain call.
    unsafe { sys::ferry_live() }
}
