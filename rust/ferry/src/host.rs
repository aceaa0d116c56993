//! Objects a C host owns: Rust holds one unit through a handle and gives it
//! back exactly once, when the wrapper is dropped.

use crate::handle::Handle;
use crate::status::{check, Result};
use crate::sys;
use crate::types::{kind, Exported};
use std::ffi::c_void;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr::NonNull;

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

    /// Borrows the host object for the guard's lifetime.
    pub fn borrow(&self) -> Result<HostRef<'_, T>> {
        HostRef::borrow(self.handle)
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

/// A shared borrow of a host object; unborrows when dropped. Its address is
/// [`as_ptr`](HostRef::as_ptr); a type declared with a layout derefs to it.
pub struct HostRef<'h, T: Exported<Owner = kind::Host>> {
    handle: Handle<T>,
    ptr: NonNull<c_void>,
    // Not Send: the unborrow must run on the borrowing thread.
    _life: PhantomData<(&'h T, *const ())>,
}

impl<T: Exported<Owner = kind::Host>> HostRef<'_, T> {
    /// Borrows `handle`'s object for as long as the guard lives; the caller
    /// keeps the handle itself.
    pub(crate) fn borrow(handle: Handle<T>) -> Result<Self> {
        let t = T::ferry_type()?;
        let mut obj: *const c_void = std::ptr::null();
        // SAFETY: plain call; obj is a valid out-pointer.
        check(unsafe { sys::ferry_borrow(handle.raw(), t.as_ptr(), &mut obj) })?;
        Ok(HostRef {
            handle,
            ptr: NonNull::new(obj as *mut c_void).expect("libferry never lends NULL"),
            _life: PhantomData,
        })
    }

    pub fn as_ptr(&self) -> *const c_void {
        self.ptr.as_ptr()
    }

    /// The borrowed handle (still the host's or the caller's to end).
    pub fn handle(&self) -> Handle<T> {
        self.handle
    }
}

impl<T: HostLayout> Deref for HostRef<'_, T> {
    type Target = T::Layout;
    fn deref(&self) -> &T::Layout {
        // SAFETY: T::ferry_type (run by the borrow) checked that the host
        // registered T as FERRY_PLAIN (initialised plain data, no atomics or
        // locks) with Layout's size and alignment, and that T is no Rust
        // type; Layout is Plain, so any initialised bytes of that size are
        // a valid value; the
        // borrow keeps the object alive and not exclusively borrowed until
        // this guard drops.
        unsafe { self.ptr.cast::<T::Layout>().as_ref() }
    }
}

impl<T: Exported<Owner = kind::Host>> Drop for HostRef<'_, T> {
    fn drop(&mut self) {
        // SAFETY: ends the borrow this guard took.
        unsafe { sys::ferry_unborrow(self.handle.raw()) };
    }
}

/// A host type whose objects Rust may read as `Layout`: declared with
/// `host_type!(…, layout = L)`.
///
/// # Safety
/// `ferry_type` must refuse a registration the host did not declare
/// `FERRY_PLAIN`, one bound to a Rust type, and one whose size or alignment
/// differs from `Layout`'s.
pub unsafe trait HostLayout: Exported<Owner = kind::Host> {
    type Layout: Plain;
}

/// Plain data: `#[repr(C)]`, every initialised bit pattern of its size a
/// valid value, no pointers, no drop. Implemented for the integer and float
/// types and arrays of them; structs get it from [`plain!`](crate::plain),
/// which checks every field.
///
/// # Safety
/// Every initialised bit pattern of `size_of::<Self>()` bytes must be a
/// valid `Self`, and `Self`'s layout must be C's.
pub unsafe trait Plain: Copy + 'static {}

macro_rules! plain_primitives {
    ($($t:ty),*) => {
        // SAFETY: every bit pattern is a valid integer or float.
        $(unsafe impl Plain for $t {})*
    };
}
plain_primitives!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize, f32, f64);

// SAFETY: an array of Plain values is Plain: no padding between elements.
unsafe impl<T: Plain, const N: usize> Plain for [T; N] {}

#[doc(hidden)]
pub const fn assert_plain<T: Plain>() {}

/// Declares a `#[repr(C)]` struct of [`Plain`] fields, for a host type's
/// layout (`host_type!(…, layout = …)`):
///
/// ```ignore
/// ferry::plain! {
///     /// What the C host's `struct buffer` holds.
///     pub struct BufferData { pub len: u32, pub bytes: [u8; 60] }
/// }
/// ```
///
/// Fields may only be integers, floats, arrays of them and other `plain!`
/// structs: no `bool`, `char`, enum, reference or pointer, whose bit
/// patterns are not all valid. The C side must hand over initialised
/// objects of that shape.
#[macro_export]
macro_rules! plain {
    ($(#[$meta:meta])* $vis:vis struct $name:ident {
        $($(#[$fmeta:meta])* $fvis:vis $field:ident : $fty:ty),* $(,)?
    }) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Clone, Copy)]
        $vis struct $name {
            $($(#[$fmeta])* $fvis $field: $fty),*
        }
        // SAFETY: repr(C) and every field is Plain (checked below), so every
        // initialised bit pattern is a valid value.
        unsafe impl $crate::Plain for $name {}
        const _: () = {
            $($crate::assert_plain::<$fty>();)*
        };
    };
}
