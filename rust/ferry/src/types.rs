//! Registering Rust types with libferry: one descriptor per type, built
//! from the type's ownership kind, registered lazily and thread-safely.

use crate::status::{check, Error, Result, Status};
use crate::sys;
use std::ffi::{c_void, CStr};
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::{null_mut, NonNull};
use std::rc::Rc;
use std::sync::{Arc, OnceLock};

/// A type registered with libferry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeRef(NonNull<sys::ferry_type>);

// SAFETY: a registered type is immutable and lives until the process ends;
// libferry reads it from any thread.
unsafe impl Send for TypeRef {}
// SAFETY: as above.
unsafe impl Sync for TypeRef {}

impl TypeRef {
    pub fn as_ptr(self) -> *const sys::ferry_type {
        self.0.as_ptr()
    }

    /// The type registered under `name` (by Rust or by a C host), if any.
    pub fn find(name: &CStr) -> Option<TypeRef> {
        // SAFETY: name is NUL-terminated; the result is NULL or a type that
        // lives for the life of the process.
        NonNull::new(unsafe { sys::ferry_type_find(name.as_ptr()) } as *mut _).map(TypeRef)
    }
}

/// How Rust owns a type's objects: the one ownership kind the type's handles
/// carry, so a `Box` can never be released as an `Arc` (the compiler checks
/// which constructors and `take`s apply).
pub mod kind {
    /// `Box<T>`: unique handles.
    pub enum Boxed {}
    /// `Arc<T>`: shared and weak handles.
    pub enum Shared {}
    /// `Rc<T>`: local (thread-pinned) and weak handles.
    pub enum Local {}
    /// Registered by a C host with its own release functions.
    pub enum Host {}
}

/// A type that can cross the boundary as `Handle<Self>`. Implemented by
/// [`export!`](crate::export) and [`host_type!`](crate::host_type).
///
/// # Safety
/// `ferry_type` must return a type whose descriptor manages units of
/// `Self` owned the way `Owner` says; the macros guarantee it.
pub unsafe trait Exported: 'static {
    type Owner;
    /// The type's name in libferry, e.g. `"demo.Point"`.
    const NAME: &'static str;
    /// The registered type, registering it on first use.
    fn ferry_type() -> Result<TypeRef>;
}

/// A Rust type's descriptor as a constant, so a plugin's descriptor (static
/// data) can list it. Implemented by [`export!`](crate::export).
///
/// # Safety
/// `DESC` must manage units of `Self` owned as `Self::Owner`, with the
/// Send/Sync flags of that ownership; the macro builds it with the kind's
/// `descriptor` and the type's own auto traits.
pub unsafe trait TypeDesc: Exported {
    const DESC: sys::ferry_type_desc;
}

/// Reports a panic in a release function instead of unwinding into C.
fn no_unwind(what: &str, f: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
        crate::boundary::report_panic(what, payload.as_ref());
    }
}

unsafe extern "C" fn release_box<T>(p: *mut c_void) {
    // SAFETY: p came from Box::into_raw in Handle::new, and libferry hands
    // each unit to release exactly once.
    no_unwind("drop of a Box", || {
        drop(unsafe { Box::from_raw(p.cast::<T>()) })
    });
}

unsafe extern "C" fn release_arc<T>(p: *mut c_void) {
    // SAFETY: p is one strong unit from Arc::into_raw or retain_arc.
    no_unwind("drop of an Arc", || {
        drop(unsafe { Arc::from_raw(p.cast::<T>()) })
    });
}

unsafe extern "C" fn retain_arc<T>(p: *mut c_void) -> *mut c_void {
    // SAFETY: p is a strong unit kept alive by the pinned source handle.
    unsafe { Arc::increment_strong_count(p.cast::<T>()) };
    p
}

unsafe extern "C" fn downgrade_arc<T>(p: *mut c_void) -> *mut c_void {
    // SAFETY: p is a strong unit kept alive by the pinned source handle;
    // ManuallyDrop keeps that unit with the handle.
    let arc = ManuallyDrop::new(unsafe { Arc::from_raw(p.cast::<T>()) });
    std::sync::Weak::into_raw(Arc::downgrade(&arc)) as *mut c_void
}

unsafe extern "C" fn upgrade_arc<T>(w: *mut c_void) -> *mut c_void {
    // SAFETY: w is a weak unit from downgrade_arc kept by the pinned handle.
    let weak = ManuallyDrop::new(unsafe { std::sync::Weak::from_raw(w.cast::<T>()) });
    weak.upgrade()
        .map_or(null_mut(), |a| Arc::into_raw(a) as *mut c_void)
}

unsafe extern "C" fn release_weak_arc<T>(w: *mut c_void) {
    // SAFETY: w is one weak unit from downgrade_arc, released once.
    no_unwind("drop of a Weak", || {
        drop(unsafe { std::sync::Weak::from_raw(w.cast::<T>()) })
    });
}

unsafe extern "C" fn release_rc<T>(p: *mut c_void) {
    // SAFETY: p is one strong unit from Rc::into_raw or retain_rc; libferry
    // pins local handles, so this runs on the Rc's thread.
    no_unwind("drop of an Rc", || {
        drop(unsafe { Rc::from_raw(p.cast::<T>()) })
    });
}

unsafe extern "C" fn retain_rc<T>(p: *mut c_void) -> *mut c_void {
    // SAFETY: as retain_arc, on the Rc's own thread.
    unsafe { Rc::increment_strong_count(p.cast::<T>()) };
    p
}

unsafe extern "C" fn downgrade_rc<T>(p: *mut c_void) -> *mut c_void {
    // SAFETY: as downgrade_arc, on the Rc's own thread.
    let rc = ManuallyDrop::new(unsafe { Rc::from_raw(p.cast::<T>()) });
    std::rc::Weak::into_raw(Rc::downgrade(&rc)) as *mut c_void
}

unsafe extern "C" fn upgrade_rc<T>(w: *mut c_void) -> *mut c_void {
    // SAFETY: as upgrade_arc, on the Rc's own thread.
    let weak = ManuallyDrop::new(unsafe { std::rc::Weak::from_raw(w.cast::<T>()) });
    weak.upgrade()
        .map_or(null_mut(), |r| Rc::into_raw(r) as *mut c_void)
}

unsafe extern "C" fn release_weak_rc<T>(w: *mut c_void) {
    // SAFETY: as release_weak_arc, on the Rc's own thread.
    no_unwind("drop of an rc::Weak", || {
        drop(unsafe { std::rc::Weak::from_raw(w.cast::<T>()) })
    });
}

/// The ownership kinds whose code is Rust's (not [`kind::Host`]): their
/// objects can be borrowed as Rust values.
pub trait Ownership {}
impl Ownership for kind::Boxed {}
impl Ownership for kind::Shared {}
impl Ownership for kind::Local {}

const fn base_desc<T>(name: &'static CStr, flags: u32) -> sys::ferry_type_desc {
    sys::ferry_type_desc {
        name: name.as_ptr(),
        flags,
        release: None,
        retain: None,
        downgrade: None,
        upgrade: None,
        release_weak: None,
        size: std::mem::size_of::<T>(),
        align: std::mem::align_of::<T>(),
    }
}

// One constructor per kind, `const` so that the lazy registration and a
// plugin's static descriptor are the same bits: libferry accepts a second
// registration of a name only with an identical descriptor.
impl kind::Boxed {
    pub const fn descriptor<T>(name: &'static CStr, flags: u32) -> sys::ferry_type_desc {
        sys::ferry_type_desc {
            release: Some(release_box::<T>),
            ..base_desc::<T>(name, flags)
        }
    }
}

impl kind::Shared {
    pub const fn descriptor<T>(name: &'static CStr, flags: u32) -> sys::ferry_type_desc {
        // Arc<T> is Send only when T is Send + Sync: otherwise two threads
        // could each hold a clone and read T at once. Such handles stay on
        // their thread.
        let sync = sys::FERRY_SEND | sys::FERRY_SYNC;
        let flags = if flags & sync == sync { flags } else { 0 };
        sys::ferry_type_desc {
            release: Some(release_arc::<T>),
            retain: Some(retain_arc::<T>),
            downgrade: Some(downgrade_arc::<T>),
            upgrade: Some(upgrade_arc::<T>),
            release_weak: Some(release_weak_arc::<T>),
            ..base_desc::<T>(name, flags)
        }
    }
}

impl kind::Local {
    pub const fn descriptor<T>(name: &'static CStr, _flags: u32) -> sys::ferry_type_desc {
        sys::ferry_type_desc {
            release: Some(release_rc::<T>),
            retain: Some(retain_rc::<T>),
            downgrade: Some(downgrade_rc::<T>),
            upgrade: Some(upgrade_rc::<T>),
            release_weak: Some(release_weak_rc::<T>),
            // Rc<T> is never Send, whatever T is.
            ..base_desc::<T>(name, 0)
        }
    }
}

/// A type name as a C string, checked at compile time (in constants).
#[doc(hidden)]
pub const fn c_name(with_nul: &'static str) -> &'static CStr {
    match CStr::from_bytes_with_nul(with_nul.as_bytes()) {
        Ok(name) => name,
        Err(_) => panic!("names cannot contain NUL"),
    }
}

/// Registers `T` once per library (the cell lives in the calling crate).
///
/// A type name belongs to one Rust type. Before registering the real type,
/// the name is claimed in libferry by a marker type ("ferry.rust:<name>")
/// whose `size` field carries a hash of the Rust identity (`TypeId` of
/// `T` and its ownership kind): the registry's own rule — one descriptor
/// per name — then arbitrates between libraries and threads. A different
/// Rust type under a taken name is refused (`FERRY_E_TYPE`), even when the
/// optimiser has merged identical release functions so that the two real
/// descriptors compare equal. The same Rust type compiled into two
/// libraries registers the real descriptor twice with different
/// (monomorphised) functions; the second library then uses the first one's.
/// A plugin's host registers the plugin's descriptors before its code runs;
/// `T::DESC` is the very constant the plugin's descriptor lists, so this
/// registration is the identical one libferry accepts.
///
/// # Safety
/// `cell` must be used for `T` alone.
#[doc(hidden)]
pub unsafe fn register_once<T: TypeDesc>(cell: &'static OnceLock<TypeRef>) -> Result<TypeRef> {
    if let Some(t) = cell.get() {
        return Ok(*t);
    }
    claim_name::<T, T::Owner>(T::NAME)?;
    let desc = T::DESC;
    let mut out: *const sys::ferry_type = std::ptr::null();
    // SAFETY: desc and out are valid for the call; libferry copies desc.
    let status = unsafe { sys::ferry_type_register(&desc, &mut out) };
    let t = match check(status) {
        Ok(()) => TypeRef(NonNull::new(out as *mut _).expect("registered type")),
        // The name is ours (claimed above): another copy of this very type
        // registered it first, with its own functions.
        Err(e) if e.status == Status::TYPE => find_named(T::NAME).ok_or(e)?,
        Err(e) => return Err(e),
    };
    Ok(*cell.get_or_init(|| t))
}

fn find_named(name: &str) -> Option<TypeRef> {
    TypeRef::find(&std::ffi::CString::new(name).ok()?)
}

fn identity<T: 'static, O: 'static>(name: &str) -> usize {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (name, std::any::TypeId::of::<(T, O)>()).hash(&mut h);
    h.finish() as usize
}

unsafe extern "C" fn release_nothing(_: *mut c_void) {}

/// Claims `name` for the Rust type (T, O), or fails with FERRY_E_TYPE when
/// another Rust type holds it.
fn claim_name<T: 'static, O: 'static>(name: &str) -> Result<()> {
    let marker = std::ffi::CString::new(format!("ferry.rust:{name}"))
        .map_err(|_| Error::new(Status::TYPE, format!("type name {name:?} contains NUL")))?;
    let id = identity::<T, O>(name);
    let desc = sys::ferry_type_desc {
        name: marker.as_ptr(),
        flags: 0,
        release: Some(release_nothing),
        retain: None,
        downgrade: None,
        upgrade: None,
        release_weak: None,
        size: id,
        align: 1,
    };
    let mut out: *const sys::ferry_type = std::ptr::null();
    // SAFETY: desc and out are valid; libferry copies the name.
    let status = unsafe { sys::ferry_type_register(&desc, &mut out) };
    match check(status) {
        Ok(()) => Ok(()),
        Err(e) if e.status == Status::TYPE => {
            // Another library's release_nothing: same claim if same identity.
            let found = TypeRef::find(&marker).ok_or(e.clone())?;
            // SAFETY: found is registered; its descriptor lives as long.
            let held = unsafe { (*sys::ferry_type_descriptor(found.as_ptr())).size };
            if held == id {
                Ok(())
            } else {
                Err(Error::new(
                    Status::TYPE,
                    format!(
                        "type name {:?} is taken by another Rust type than {}",
                        name,
                        std::any::type_name::<T>()
                    ),
                ))
            }
        }
        Err(e) => Err(e),
    }
}

/// A C host's type, looked up by name on each use until it is registered.
/// With `layout`, the host's registered size and alignment must be the
/// layout's, or Rust would read the object with the wrong shape.
#[doc(hidden)]
pub fn host_type(name: &'static str, layout: Option<(usize, usize)>) -> Result<TypeRef> {
    let t = find_named(name).ok_or_else(|| {
        Error::new(
            Status::TYPE,
            format!("no type named {name:?} is registered by the host"),
        )
    })?;
    if let Some((size, align)) = layout {
        // SAFETY: t is registered; its descriptor lives as long.
        let desc = unsafe { &*sys::ferry_type_descriptor(t.as_ptr()) };
        if (desc.size, desc.align) != (size, align) {
            return Err(Error::new(
                Status::TYPE,
                format!(
                    "host type {name:?} is registered with size {} and align {}, \
                     but its Rust layout has size {size} and align {align}",
                    desc.size, desc.align
                ),
            ));
        }
    }
    Ok(t)
}

/// Send/Sync detection for a concrete type, as constants and without
/// specialisation: an inherent associated const applies when its bound
/// holds and then wins over the trait's.
#[doc(hidden)]
pub mod autotraits {
    use super::PhantomData;

    pub struct Probe<T: ?Sized>(PhantomData<T>);

    pub trait NotSend {
        const SEND: u32 = 0;
    }
    pub trait NotSync {
        const SYNC: u32 = 0;
    }
    impl<T: ?Sized> NotSend for Probe<T> {}
    impl<T: ?Sized> NotSync for Probe<T> {}

    impl<T: ?Sized + Send> Probe<T> {
        pub const SEND: u32 = crate::sys::FERRY_SEND;
    }
    impl<T: ?Sized + Sync> Probe<T> {
        pub const SYNC: u32 = crate::sys::FERRY_SYNC;
    }
}

/// Makes a Rust type reachable from C as `Handle<T>`:
/// `ferry::export!(Point, "demo.Point", Boxed);` (or `Shared` for `Arc`,
/// `Local` for `Rc`). The name must be unique in the process; Send and Sync
/// are read from the type.
#[macro_export]
macro_rules! export {
    ($t:ty, $name:literal, $owner:ident) => {
        // SAFETY: the descriptor is built for $t owned as $owner.
        unsafe impl $crate::Exported for $t {
            type Owner = $crate::kind::$owner;
            const NAME: &'static str = $name;
            fn ferry_type() -> $crate::Result<$crate::TypeRef> {
                static TYPE: ::std::sync::OnceLock<$crate::TypeRef> = ::std::sync::OnceLock::new();
                // SAFETY: TYPE belongs to this impl alone.
                unsafe { $crate::register_once::<$t>(&TYPE) }
            }
        }
        // SAFETY: the kind's own descriptor, with the flags the probe reads
        // from $t itself.
        unsafe impl $crate::TypeDesc for $t {
            const DESC: $crate::sys::ferry_type_desc = {
                #[allow(unused_imports)]
                use $crate::autotraits::{NotSend as _, NotSync as _};
                type Probe = $crate::autotraits::Probe<$t>;
                $crate::kind::$owner::descriptor::<$t>(
                    $crate::types_c_name(concat!($name, "\0")),
                    Probe::SEND | Probe::SYNC,
                )
            };
        }
    };
}

/// Declares a type a C host registers (with its own destructor), so Rust can
/// hold its handles: `ferry::host_type!(HostImage, "host.Image");`.
///
/// With `layout = L` (a [`plain!`](crate::plain) struct), borrowing one of
/// its objects yields `&L`: `ferry::host_type!(pub Buffer, "host.Buffer",
/// layout = BufferData);`. Every use first checks that the host registered
/// the type with `L`'s size and alignment (`FERRY_E_TYPE` otherwise).
#[macro_export]
macro_rules! host_type {
    ($vis:vis $t:ident, $name:literal) => {
        $crate::host_type!(@declare $vis $t, $name, ::std::option::Option::None);
    };
    ($vis:vis $t:ident, $name:literal, layout = $layout:ty) => {
        $crate::host_type!(
            @declare $vis $t, $name,
            ::std::option::Option::Some((
                ::std::mem::size_of::<$layout>(),
                ::std::mem::align_of::<$layout>(),
            ))
        );
        // SAFETY: ferry_type (above) refuses a registration whose size or
        // alignment differs from $layout's, and $layout is Plain.
        unsafe impl $crate::HostLayout for $t {
            type Layout = $layout;
        }
    };
    (@declare $vis:vis $t:ident, $name:literal, $layout:expr) => {
        /// A type owned by the C host; Rust holds it only through handles.
        $vis enum $t {}
        // SAFETY: host handles are never turned into Rust values; only
        // dropped (the host's release) or borrowed (as raw pointers, or as
        // a checked layout).
        unsafe impl $crate::Exported for $t {
            type Owner = $crate::kind::Host;
            const NAME: &'static str = $name;
            fn ferry_type() -> $crate::Result<$crate::TypeRef> {
                $crate::host_type_named($name, $layout)
            }
        }
    };
}
