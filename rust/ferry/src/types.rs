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
    /// The registered type, registering it on first use.
    fn ferry_type() -> Result<TypeRef>;
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

/// The descriptor functions of one ownership kind.
pub trait Ownership {
    #[doc(hidden)]
    fn descriptor<T: 'static>(name: &'static CStr, flags: u32) -> sys::ferry_type_desc;
}

fn base_desc<T>(name: &'static CStr, flags: u32) -> sys::ferry_type_desc {
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

impl Ownership for kind::Boxed {
    fn descriptor<T: 'static>(name: &'static CStr, flags: u32) -> sys::ferry_type_desc {
        sys::ferry_type_desc {
            release: Some(release_box::<T>),
            ..base_desc::<T>(name, flags)
        }
    }
}

impl Ownership for kind::Shared {
    fn descriptor<T: 'static>(name: &'static CStr, flags: u32) -> sys::ferry_type_desc {
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

impl Ownership for kind::Local {
    fn descriptor<T: 'static>(name: &'static CStr, flags: u32) -> sys::ferry_type_desc {
        sys::ferry_type_desc {
            release: Some(release_rc::<T>),
            retain: Some(retain_rc::<T>),
            downgrade: Some(downgrade_rc::<T>),
            upgrade: Some(upgrade_rc::<T>),
            release_weak: Some(release_weak_rc::<T>),
            // Rc<T> is never Send, whatever T is.
            flags: 0,
            ..base_desc::<T>(name, flags)
        }
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
///
/// # Safety
/// `flags` must be the Send/Sync flags of `T` owned as `O`.
#[doc(hidden)]
pub unsafe fn register_once<T: 'static, O: Ownership + 'static>(
    cell: &'static OnceLock<TypeRef>,
    name: &'static CStr,
    flags: u32,
) -> Result<TypeRef> {
    if let Some(t) = cell.get() {
        return Ok(*t);
    }
    claim_name::<T, O>(name)?;
    let desc = O::descriptor::<T>(name, flags);
    let mut out: *const sys::ferry_type = std::ptr::null();
    // SAFETY: desc and out are valid for the call; libferry copies desc.
    let status = unsafe { sys::ferry_type_register(&desc, &mut out) };
    let t = match check(status) {
        Ok(()) => TypeRef(NonNull::new(out as *mut _).expect("registered type")),
        // The name is ours (claimed above): another copy of this very type
        // registered it first, with its own functions.
        Err(e) if e.status == Status::TYPE => TypeRef::find(name).ok_or(e)?,
        Err(e) => return Err(e),
    };
    Ok(*cell.get_or_init(|| t))
}

fn identity<T: 'static, O: 'static>(name: &CStr) -> usize {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (name, std::any::TypeId::of::<(T, O)>()).hash(&mut h);
    h.finish() as usize
}

unsafe extern "C" fn release_nothing(_: *mut c_void) {}

/// Claims `name` for the Rust type (T, O), or fails with FERRY_E_TYPE when
/// another Rust type holds it.
fn claim_name<T: 'static, O: 'static>(name: &CStr) -> Result<()> {
    let marker = std::ffi::CString::new(format!("ferry.rust:{}", name.to_string_lossy()))
        .expect("a CStr has no inner NUL");
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
#[doc(hidden)]
pub fn host_type(name: &'static CStr) -> Result<TypeRef> {
    TypeRef::find(name).ok_or_else(|| {
        Error::new(
            Status::TYPE,
            format!("no type named {:?} is registered by the host", name),
        )
    })
}

/// Send/Sync detection for a concrete type, without specialisation: an
/// inherent method applies when its bound holds and wins over the trait's.
#[doc(hidden)]
pub mod autotraits {
    use super::PhantomData;

    pub struct Probe<T: ?Sized>(pub PhantomData<T>);

    pub trait NotSend {
        fn send_flag(&self) -> u32 {
            0
        }
    }
    pub trait NotSync {
        fn sync_flag(&self) -> u32 {
            0
        }
    }
    impl<T: ?Sized> NotSend for Probe<T> {}
    impl<T: ?Sized> NotSync for Probe<T> {}

    impl<T: ?Sized + Send> Probe<T> {
        pub fn send_flag(&self) -> u32 {
            crate::sys::FERRY_SEND
        }
    }
    impl<T: ?Sized + Sync> Probe<T> {
        pub fn sync_flag(&self) -> u32 {
            crate::sys::FERRY_SYNC
        }
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
            fn ferry_type() -> $crate::Result<$crate::TypeRef> {
                static TYPE: ::std::sync::OnceLock<$crate::TypeRef> = ::std::sync::OnceLock::new();
                #[allow(unused_imports)]
                use $crate::autotraits::{NotSend as _, NotSync as _};
                let probe = $crate::autotraits::Probe::<$t>(::std::marker::PhantomData);
                let name =
                    match ::std::ffi::CStr::from_bytes_with_nul(concat!($name, "\0").as_bytes()) {
                        Ok(name) => name,
                        Err(_) => panic!("type names cannot contain NUL"),
                    };
                // SAFETY: the flags are read from $t by the probe.
                unsafe {
                    $crate::register_once::<$t, $crate::kind::$owner>(
                        &TYPE,
                        name,
                        probe.send_flag() | probe.sync_flag(),
                    )
                }
            }
        }
    };
}

/// Declares a type a C host registers (with its own destructor), so Rust can
/// hold its handles: `ferry::host_type!(HostImage, "host.Image");`.
#[macro_export]
macro_rules! host_type {
    ($vis:vis $t:ident, $name:literal) => {
        /// A type owned by the C host; Rust holds it only through handles.
        $vis enum $t {}
        // SAFETY: host handles are never turned into Rust values; only
        // dropped (the host's release) or borrowed as raw pointers.
        unsafe impl $crate::Exported for $t {
            type Owner = $crate::kind::Host;
            fn ferry_type() -> $crate::Result<$crate::TypeRef> {
                match ::std::ffi::CStr::from_bytes_with_nul(concat!($name, "\0").as_bytes()) {
                    Ok(name) => $crate::host_type_named(name),
                    Err(_) => panic!("type names cannot contain NUL"),
                }
            }
        }
    };
}
