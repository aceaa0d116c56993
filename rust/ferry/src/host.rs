//! Objects a C host owns: Rust holds one unit through a handle and gives it
//! back exactly once, when the wrapper is dropped.

use crate::handle::Handle;
use crate::status::{check, Result};
use crate::sys;
use crate::types::{kind, Exported};
use std::ffi::c_void;
use std::mem::ManuallyDrop;

/// One unit of a host object. Dropping it calls the host's release (through
/// `ferry_drop`, counted as a drop by Rust), on whatever thread drops it.
pub struct Owned<T: Exported<Owner = kind::Host>> {
    handle: Handle<T>,
}

impl<T: Exported<Owner = kind::Host>> Owned<T> {
    /// Takes charge of a handle the host gave us (checked: live, of `T`).
    pub fn from_handle(handle: Handle<T>) -> Result<Self> {
        handle.check()?;
        let t = T::ferry_type()?;
        // SAFETY: t is registered; its descriptor lives as long.
        let flags = unsafe { (*sys::ferry_type_descriptor(t.as_ptr())).flags };
        if flags & sys::FERRY_SEND == 0 {
            // Owned is Send: its Drop may run on any thread, where
            // ferry_drop would refuse a !Send object and leak it silently.
            return Err(crate::Error::new(
                crate::Status::THREAD,
                "Owned: the host type is !Send; keep its handle on its thread",
            ));
        }
        Ok(Owned { handle })
    }

    pub fn handle(&self) -> Handle<T> {
        self.handle
    }

    /// Gives the unit back as a handle (for returning it to C).
    pub fn into_handle(self) -> Handle<T> {
        ManuallyDrop::new(self).handle
    }

    /// Borrows the host object as a raw pointer for the guard's lifetime.
    pub fn borrow_raw(&self) -> Result<RawRef<'_, T>> {
        let t = T::ferry_type()?;
        let mut obj: *const c_void = std::ptr::null();
        // SAFETY: plain call; obj is a valid out-pointer.
        check(unsafe { sys::ferry_borrow(self.handle.raw(), t.as_ptr(), &mut obj) })?;
        Ok(RawRef {
            owner: self,
            ptr: obj,
        })
    }
}

impl<T: Exported<Owner = kind::Host>> Drop for Owned<T> {
    fn drop(&mut self) {
        // Drop glue has no caller location; record none rather than libcore.
        let site = std::ptr::null();
        // SAFETY: gives up the one unit this wrapper holds; libferry runs
        // the host's release exactly once.
        unsafe { sys::ferry_drop_at(self.handle.raw(), sys::FERRY_BY_RUST, site) };
    }
}

/// A borrow of a host object; unborrows when dropped.
pub struct RawRef<'o, T: Exported<Owner = kind::Host>> {
    owner: &'o Owned<T>,
    ptr: *const c_void,
}

impl<T: Exported<Owner = kind::Host>> RawRef<'_, T> {
    pub fn as_ptr(&self) -> *const c_void {
        self.ptr
    }
}

impl<T: Exported<Owner = kind::Host>> Drop for RawRef<'_, T> {
    fn drop(&mut self) {
        // SAFETY: ends the borrow this guard took.
        unsafe { sys::ferry_unborrow(self.owner.handle.raw()) };
    }
}
