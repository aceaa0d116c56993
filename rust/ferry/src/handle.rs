//! `Handle<T>`: what C holds instead of a pointer to a Rust object.

use crate::site;
use crate::status::{check, Error, Result, Status};
use crate::sys;
use crate::types::{kind, Exported, Ownership};
use std::ffi::c_void;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
use std::rc::Rc;
use std::sync::Arc;

/// A typed 64-bit handle: one unit of ownership of a `T` (or a lend of one)
/// in libferry's table. Copying it copies the number, not the ownership:
/// every handle made must be ended once (`drop_handle`, `take`, `to_arc`…),
/// from Rust or from C, and libferry refuses the second end.
///
/// cbindgen emits `Handle<Point>` as its own C struct, `Handle_Point`.
#[repr(C)]
pub struct Handle<T> {
    pub bits: u64,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Handle<T> {}
impl<T> PartialEq for Handle<T> {
    fn eq(&self, other: &Self) -> bool {
        self.bits == other.bits
    }
}
impl<T> Eq for Handle<T> {}

impl<T> fmt::Debug for Handle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Handle<{}>({:#018x})",
            std::any::type_name::<T>(),
            self.bits
        )
    }
}

/// How a handle's unit is held, as libferry reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Unique,
    Shared,
    Local,
    Weak,
    Lent,
    LentMut,
}

fn slot_for<T: Exported>(
    make: unsafe extern "C" fn(
        *const sys::ferry_type,
        *mut c_void,
        *mut sys::ferry_handle,
        *const std::ffi::c_char,
    ) -> sys::ferry_status,
    obj: *mut c_void,
    site: *const std::ffi::c_char,
) -> Result<Handle<T>> {
    let t = T::ferry_type()?;
    let mut out = sys::ferry_handle::default();
    // SAFETY: t is registered, obj is one unit of T of the kind `make`
    // creates, out and site are valid (site is interned for ever).
    check(unsafe { make(t.as_ptr(), obj, &mut out, site) })?;
    Ok(Handle::from_raw(out))
}

impl<T> Handle<T> {
    /// The null handle (bits 0): every operation answers `FERRY_E_NULL`.
    pub const fn null() -> Self {
        Handle {
            bits: 0,
            _type: PhantomData,
        }
    }

    pub const fn from_raw(raw: sys::ferry_handle) -> Self {
        Handle {
            bits: raw.bits,
            _type: PhantomData,
        }
    }

    pub const fn raw(self) -> sys::ferry_handle {
        sys::ferry_handle { bits: self.bits }
    }

    /// The same handle seen as another type; every use still checks the
    /// real type, so a wrong cast fails with `FERRY_E_TYPE`.
    pub const fn cast<U>(self) -> Handle<U> {
        Handle {
            bits: self.bits,
            _type: PhantomData,
        }
    }

    pub fn kind(self) -> Result<Kind> {
        let mut k = 0;
        // SAFETY: plain call; k is a valid out-pointer.
        check(unsafe { sys::ferry_kind_of(self.raw(), &mut k) })?;
        Ok(match k {
            1 => Kind::Unique,
            2 => Kind::Shared,
            3 => Kind::Local,
            4 => Kind::Weak,
            5 => Kind::Lent,
            _ => Kind::LentMut,
        })
    }
}

impl<T: Exported> Handle<T> {
    /// Whether this is a live handle of `T` usable on this thread.
    pub fn check(self) -> Result<()> {
        self.checked_type().map(|_| ())
    }

    /// `T`'s registered type, after checking the handle is a live one of it.
    /// Operations whose C call takes no type (drop, clone…) check first: a
    /// live handle's type never changes, and if the handle ends meanwhile
    /// its generation is stale, so the later call cannot act on another
    /// object.
    fn checked_type(self) -> Result<crate::TypeRef> {
        let t = T::ferry_type()?;
        // SAFETY: plain call with a registered type.
        check(unsafe { sys::ferry_check(self.raw(), t.as_ptr()) })?;
        Ok(t)
    }

    /// Ends the handle from Rust (the ledger counts a drop by Rust).
    #[track_caller]
    pub fn drop_handle(self) -> Result<()> {
        let site = site::caller();
        self.checked_type()?;
        // SAFETY: plain call; libferry checks the handle.
        check(unsafe { sys::ferry_drop_at(self.raw(), sys::FERRY_BY_RUST, site) })
    }

    /// A new handle with one more unit (shared and local handles).
    #[track_caller]
    pub fn clone_handle(self) -> Result<Handle<T>> {
        self.derive(sys::ferry_clone_at, site::caller())
    }

    /// A weak handle to the same object (shared and local handles).
    #[track_caller]
    pub fn downgrade(self) -> Result<Handle<T>> {
        self.derive(sys::ferry_downgrade_at, site::caller())
    }

    /// A strong handle from a weak one, or `FERRY_E_EXPIRED`.
    #[track_caller]
    pub fn upgrade(self) -> Result<Handle<T>> {
        self.derive(sys::ferry_upgrade_at, site::caller())
    }

    fn derive(
        self,
        f: unsafe extern "C" fn(
            sys::ferry_handle,
            *mut sys::ferry_handle,
            *const std::ffi::c_char,
        ) -> sys::ferry_status,
        site: *const std::ffi::c_char,
    ) -> Result<Handle<T>> {
        self.checked_type()?;
        let mut out = sys::ferry_handle::default();
        // SAFETY: out and site are valid; libferry checks the handle.
        check(unsafe { f(self.raw(), &mut out, site) })?;
        Ok(Handle::from_raw(out))
    }

    /// Borrows the object until the guard is dropped.
    pub fn borrow(&self) -> Result<Ref<'_, T>>
    where
        T::Owner: Ownership,
    {
        self.borrow_detached()
    }

    /// Borrows the object exclusively (unique and lent-mut handles).
    pub fn borrow_mut(&self) -> Result<RefMut<'_, T>>
    where
        T::Owner: Ownership,
    {
        self.borrow_mut_detached()
    }

    /// A borrow whose guard is not tied to this copy of the handle: what
    /// keeps the object alive is the borrow itself, not the `Handle` value,
    /// which is only a number.
    pub(crate) fn borrow_detached(self) -> Result<Ref<'static, T>>
    where
        T::Owner: Ownership,
    {
        let t = T::ferry_type()?;
        let mut obj: *const c_void = std::ptr::null();
        // SAFETY: plain call; obj is a valid out-pointer.
        check(unsafe { sys::ferry_borrow(self.raw(), t.as_ptr(), &mut obj) })?;
        // SAFETY: a successful borrow of a live handle of T's type gives a
        // pointer to a T that stays valid (and unmoved, not mutably
        // borrowed) until the unborrow in Ref's Drop.
        Ok(Ref {
            handle: self.raw(),
            value: NonNull::new(obj as *mut T).expect("libferry never lends NULL"),
            _life: PhantomData,
        })
    }

    /// [`borrow_detached`](Self::borrow_detached), exclusively.
    pub(crate) fn borrow_mut_detached(self) -> Result<RefMut<'static, T>>
    where
        T::Owner: Ownership,
    {
        let t = T::ferry_type()?;
        let mut obj: *mut c_void = std::ptr::null_mut();
        // SAFETY: plain call; obj is a valid out-pointer.
        check(unsafe { sys::ferry_borrow_mut(self.raw(), t.as_ptr(), &mut obj) })?;
        // SAFETY: an exclusive borrow: no other borrow of this object exists
        // until the unborrow in RefMut's Drop.
        Ok(RefMut {
            handle: self.raw(),
            value: NonNull::new(obj.cast::<T>()).expect("libferry never lends NULL"),
            _life: PhantomData,
        })
    }

    /// Takes the unit out after checking the handle is of `kind`.
    fn take_unit(self, want: Kind, site: *const std::ffi::c_char) -> Result<*mut c_void> {
        let t = self.checked_type()?;
        let got = self.kind()?;
        if got != want {
            return Err(Error::new(
                Status::KIND,
                format!(
                    "take: handle {:#018x} is {:?}, not {:?}",
                    self.bits, got, want
                ),
            ));
        }
        let mut obj: *mut c_void = std::ptr::null_mut();
        // SAFETY: plain call; a handle's kind never changes, so a successful
        // take after the check above hands out a unit of `want`.
        check(unsafe { sys::ferry_take_at(self.raw(), t.as_ptr(), &mut obj, site) })?;
        Ok(obj)
    }
}

impl<T: Exported<Owner = kind::Boxed>> Handle<T> {
    /// A unique handle owning the box.
    #[track_caller]
    pub fn new(value: Box<T>) -> Result<Handle<T>> {
        let site = site::caller();
        let raw = Box::into_raw(value);
        slot_for::<T>(sys::ferry_box_at, raw.cast(), site).inspect_err(|_| {
            // SAFETY: the failed call changed nothing: the box is still ours.
            drop(unsafe { Box::from_raw(raw) });
        })
    }

    /// Moves the box back out; the handle is stale afterwards.
    #[track_caller]
    pub fn take(self) -> Result<Box<T>> {
        let obj = self.take_unit(Kind::Unique, site::caller())?;
        // SAFETY: a unique unit of a Boxed type came from Box::into_raw.
        Ok(unsafe { Box::from_raw(obj.cast::<T>()) })
    }
}

impl<T: Exported<Owner = kind::Shared>> Handle<T> {
    /// A shared handle holding one strong reference.
    #[track_caller]
    pub fn from_arc(value: Arc<T>) -> Result<Handle<T>> {
        let site = site::caller();
        let raw = Arc::into_raw(value);
        slot_for::<T>(sys::ferry_share_at, raw as *mut c_void, site).inspect_err(|_| {
            // SAFETY: the failed call changed nothing: the reference is ours.
            drop(unsafe { Arc::from_raw(raw) });
        })
    }

    /// Moves the strong reference back out as an `Arc`.
    #[track_caller]
    pub fn to_arc(self) -> Result<Arc<T>> {
        let obj = self.take_unit(Kind::Shared, site::caller())?;
        // SAFETY: a shared unit of a Shared type is one strong reference.
        Ok(unsafe { Arc::from_raw(obj.cast::<T>()) })
    }
}

impl<T: Exported<Owner = kind::Local>> Handle<T> {
    /// A local handle holding one strong reference, usable on this thread only.
    #[track_caller]
    pub fn from_rc(value: Rc<T>) -> Result<Handle<T>> {
        let site = site::caller();
        let raw = Rc::into_raw(value);
        slot_for::<T>(sys::ferry_local_at, raw as *mut c_void, site).inspect_err(|_| {
            // SAFETY: the failed call changed nothing: the reference is ours.
            drop(unsafe { Rc::from_raw(raw) });
        })
    }

    /// Moves the strong reference back out as an `Rc`.
    #[track_caller]
    pub fn to_rc(self) -> Result<Rc<T>> {
        let obj = self.take_unit(Kind::Local, site::caller())?;
        // SAFETY: a local unit of a Local type is one Rc strong reference,
        // and libferry only hands it out on the Rc's own thread.
        Ok(unsafe { Rc::from_raw(obj.cast::<T>()) })
    }
}

/// A shared borrow; unborrows when dropped.
pub struct Ref<'h, T> {
    handle: sys::ferry_handle,
    value: NonNull<T>,
    // &'h T for variance; *const () because the unborrow must run on the
    // borrowing thread (pinned handles and !Sync claims).
    _life: PhantomData<(&'h T, *const ())>,
}
// SAFETY: sharing a &Ref across threads shares only &T.
unsafe impl<T: Sync> Sync for Ref<'_, T> {}

impl<T> Deref for Ref<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the borrow keeps the object alive and unaliased by &mut.
        unsafe { self.value.as_ref() }
    }
}

impl<T> Drop for Ref<'_, T> {
    fn drop(&mut self) {
        // SAFETY: ends the borrow this guard took.
        unsafe { sys::ferry_unborrow(self.handle) };
    }
}

/// An exclusive borrow; unborrows when dropped.
pub struct RefMut<'h, T> {
    handle: sys::ferry_handle,
    value: NonNull<T>,
    _life: PhantomData<(&'h mut T, *const ())>,
}
// SAFETY: sharing a &RefMut across threads shares only &T.
unsafe impl<T: Sync> Sync for RefMut<'_, T> {}

impl<T> Deref for RefMut<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the exclusive borrow keeps the object alive and ours.
        unsafe { self.value.as_ref() }
    }
}

impl<T> DerefMut for RefMut<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as deref, exclusively.
        unsafe { self.value.as_mut() }
    }
}

impl<T> Drop for RefMut<'_, T> {
    fn drop(&mut self) {
        // SAFETY: ends the borrow this guard took.
        unsafe { sys::ferry_unborrow(self.handle) };
    }
}
