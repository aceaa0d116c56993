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

/// The flags a Rust type's descriptor may carry: never `FERRY_PLAIN`, which
/// would let a host-type layout read a Rust object's padding or atomics.
const THREAD_FLAGS: u32 = sys::FERRY_SEND | sys::FERRY_SYNC;

// One constructor per kind, `const` so that the lazy registration and a
// plugin's static descriptor are the same bits: libferry accepts a second
// registration of a name only with an identical descriptor.
impl kind::Boxed {
    pub const fn descriptor<T>(name: &'static CStr, flags: u32) -> sys::ferry_type_desc {
        sys::ferry_type_desc {
            release: Some(release_box::<T>),
            ..base_desc::<T>(name, flags & THREAD_FLAGS)
        }
    }
}

impl kind::Shared {
    pub const fn descriptor<T>(name: &'static CStr, flags: u32) -> sys::ferry_type_desc {
        // Arc<T> is Send only when T is Send + Sync: otherwise two threads
        // could each hold a clone and read T at once. Such handles stay on
        // their thread.
        let flags = if flags & THREAD_FLAGS == THREAD_FLAGS {
            THREAD_FLAGS
        } else {
            0
        };
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
/// A registered type belongs to one Rust type. After registering `T::DESC`
/// (newly, or finding the identical descriptor, e.g. the one a plugin's host
/// registered at open), the crate *binds* the registered type to the Rust
/// identity of `T` (its `TypeId` and ownership kind) with a marker type,
/// `ferry.rust:<address of the type>:<name>`, whose `size` field carries a
/// hash of that identity: the registry's own rule — one descriptor per
/// name — arbitrates between libraries and threads. A different Rust type
/// that finds the same registered type is refused (`FERRY_E_TYPE`), even
/// when the optimiser has merged identical release functions so that the
/// two descriptors compare equal.
///
/// The same Rust type compiled into two libraries registers two
/// descriptors with different (monomorphised) functions, so the second
/// registration fails with `FERRY_E_TYPE`. That library then uses the
/// registered type only if it is already bound to `T`'s identity — a copy
/// of this very type registered it as its own — and its descriptor is
/// compatible with `T::DESC` (flags, size, align and the same functions
/// present). It never binds a type it did not register: a type a C host
/// registered, or another library's type that a plugin host registered
/// from the plugin's type list, is refused. The binding names the
/// registered type's address, so it does not carry over to another type
/// registered under the name later (after a plugin's close retired the
/// first), while a plugin reopened with the same code revives the same
/// type and keeps its binding (and this cell's pointer stays valid).
///
/// # Safety
/// `cell` must be used for `T` alone.
#[doc(hidden)]
pub unsafe fn register_once<T: TypeDesc>(cell: &'static OnceLock<TypeRef>) -> Result<TypeRef> {
    if let Some(t) = cell.get() {
        return Ok(*t);
    }
    let desc = T::DESC;
    let mut out: *const sys::ferry_type = std::ptr::null();
    // SAFETY: desc and out are valid for the call; libferry copies desc.
    let status = unsafe { sys::ferry_type_register(&desc, &mut out) };
    let t = match check(status) {
        Ok(()) => {
            let t = TypeRef(NonNull::new(out as *mut _).expect("registered type"));
            // Registered as ours (newly, or the identical descriptor): bind
            // it, unless another Rust type with identical functions has.
            bind::<T, T::Owner>(t, T::NAME)?;
            t
        }
        Err(e) if e.status == Status::TYPE => adopt::<T>(e)?,
        Err(e) => return Err(e),
    };
    Ok(*cell.get_or_init(|| t))
}

/// The type registered under `T::NAME` with another descriptor, if a copy
/// of `T` registered and bound it and its descriptor fits `T::DESC`.
fn adopt<T: TypeDesc>(refused: Error) -> Result<TypeRef> {
    let name = T::NAME;
    let rust = std::any::type_name::<T>();
    let theirs = find_named(name).ok_or(refused)?;
    let marker = marker_name(theirs, name)?;
    let id = identity::<T, T::Owner>(name);
    // A copy of T binds right after registering: give a concurrent one a
    // moment (a few ms at most, only on this failure path).
    let mut held = marker_identity(&marker);
    for _ in 0..20 {
        if held.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_micros(500));
        held = marker_identity(&marker);
    }
    match held {
        Some(h) if h == id => {}
        Some(_) => return Err(taken_by_another::<T>(name)),
        None => {
            return Err(Error::new(
                Status::TYPE,
                format!(
                    "type name {name:?} is registered with another descriptor, not by Rust \
                     type {rust} (by the host, another library or another plugin); {rust} \
                     cannot use it"
                ),
            ))
        }
    }
    // SAFETY: theirs is registered; its descriptor lives as long.
    let found = unsafe { &*sys::ferry_type_descriptor(theirs.as_ptr()) };
    let ours = T::DESC;
    if !compatible(found, &ours) {
        return Err(Error::new(
            Status::TYPE,
            format!(
                "type name {name:?} is registered with a descriptor incompatible with Rust \
                 type {rust} (flags {:#x}, size {}, align {}, functions {}; {rust} has flags \
                 {:#x}, size {}, align {}, functions {})",
                found.flags,
                found.size,
                found.align,
                functions(found),
                ours.flags,
                ours.size,
                ours.align,
                functions(&ours)
            ),
        ));
    }
    Ok(theirs)
}

/// Two descriptors of one Rust type compiled twice: the same flags, size
/// and align, and the same functions present for the ownership kind.
fn compatible(a: &sys::ferry_type_desc, b: &sys::ferry_type_desc) -> bool {
    a.flags == b.flags && a.size == b.size && a.align == b.align && functions(a) == functions(b)
}

/// Which of a descriptor's functions are present, e.g. "release+retain".
fn functions(d: &sys::ferry_type_desc) -> String {
    let present = [
        ("release", d.release.is_some()),
        ("retain", d.retain.is_some()),
        ("downgrade", d.downgrade.is_some()),
        ("upgrade", d.upgrade.is_some()),
        ("release_weak", d.release_weak.is_some()),
    ];
    let names: Vec<&str> = present.iter().filter(|p| p.1).map(|p| p.0).collect();
    names.join("+")
}

fn taken_by_another<T>(name: &str) -> Error {
    Error::new(
        Status::TYPE,
        format!(
            "type name {:?} is taken by another Rust type than {}",
            name,
            std::any::type_name::<T>()
        ),
    )
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

/// The marker that binds the registered type `t` to a Rust type: named by
/// `t`'s address (types are never freed, so no two share one), then the
/// name for readability, cut to libferry's 255 bytes.
fn marker_name(t: TypeRef, name: &str) -> Result<std::ffi::CString> {
    let mut bytes = format!("ferry.rust:{:x}:{name}", t.as_ptr() as usize).into_bytes();
    bytes.truncate(255);
    std::ffi::CString::new(bytes)
        .map_err(|_| Error::new(Status::TYPE, format!("type name {name:?} contains NUL")))
}

/// The Rust identity a marker holds, if it is registered.
fn marker_identity(marker: &CStr) -> Option<usize> {
    let found = TypeRef::find(marker)?;
    // SAFETY: found is registered; its descriptor lives as long.
    Some(unsafe { (*sys::ferry_type_descriptor(found.as_ptr())).size })
}

/// Binds the registered type `t` to the Rust type (T, O), or fails with
/// FERRY_E_TYPE when another Rust type holds it.
fn bind<T: 'static, O: 'static>(t: TypeRef, name: &str) -> Result<()> {
    let marker = marker_name(t, name)?;
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
        // Another library's release_nothing: the same binding if the same
        // identity.
        Err(e) if e.status == Status::TYPE => match marker_identity(&marker) {
            Some(held) if held == id => Ok(()),
            Some(_) => Err(taken_by_another::<T>(name)),
            None => Err(e),
        },
        Err(e) => Err(e),
    }
}

/// A C host's type, looked up by name on each use until it is registered.
/// With `layout`, the host must have declared the type `FERRY_PLAIN` and
/// registered it with the layout's size and alignment, or Rust would read
/// the object with the wrong shape (or read what is not plain data: a Rust
/// object's padding, atomics, locks).
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
        if desc.flags & sys::FERRY_PLAIN == 0 {
            return Err(Error::new(
                Status::TYPE,
                format!(
                    "type {name:?} is not declared FERRY_PLAIN by the host, so Rust cannot \
                     read it through a layout (flags {:#x})",
                    desc.flags
                ),
            ));
        }
        if marker_identity(&marker_name(t, name)?).is_some() {
            return Err(Error::new(
                Status::TYPE,
                format!(
                    "type {name:?} is a Rust type, not plain data of the host: Rust cannot \
                     read it through a layout"
                ),
            ));
        }
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
/// layout = BufferData);`. Every use first checks that the host declared
/// the type `FERRY_PLAIN` and registered it with `L`'s size and alignment,
/// and that it is no Rust type (`FERRY_E_TYPE` otherwise).
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
        // SAFETY: ferry_type (above) refuses a registration the host did
        // not declare FERRY_PLAIN, one bound to a Rust type, and one whose
        // size or alignment differs from $layout's; $layout is Plain.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A Rust type whose "other copy" the tests play: the same type compiled
    /// into another library, whose monomorphised release is another
    /// function.
    struct Copied(#[allow(dead_code)] u64);
    crate::export!(Copied, "types.Copied", Boxed);

    /// Like Copied, but the other copy's descriptor has another size.
    struct Resized(#[allow(dead_code)] u64);
    crate::export!(Resized, "types.Resized", Boxed);

    unsafe extern "C" fn other_copys_release(p: *mut c_void) {
        // SAFETY: as release_box: a unit from Box::into_raw.
        drop(unsafe { Box::from_raw(p.cast::<u64>()) });
    }

    fn register(desc: &sys::ferry_type_desc) -> TypeRef {
        let mut t = std::ptr::null();
        // SAFETY: desc and t are valid; libferry copies the descriptor.
        assert_eq!(unsafe { sys::ferry_type_register(desc, &mut t) }, 0);
        TypeRef(NonNull::new(t as *mut _).unwrap())
    }

    /// What the other copy's register_once did: registered its own
    /// descriptor and bound it to the (shared) Rust identity.
    fn other_copy<T: TypeDesc>(desc: sys::ferry_type_desc) -> TypeRef {
        let t = register(&desc);
        bind::<T, T::Owner>(t, T::NAME).unwrap();
        t
    }

    #[test]
    fn a_copy_of_the_same_type_uses_the_first_registration() {
        let theirs = other_copy::<Copied>(sys::ferry_type_desc {
            release: Some(other_copys_release),
            ..Copied::DESC
        });
        static CELL: OnceLock<TypeRef> = OnceLock::new();
        // SAFETY: CELL is for Copied alone.
        let ours = unsafe { register_once::<Copied>(&CELL) }.unwrap();
        assert_eq!(ours, theirs);
        assert_eq!(Copied::ferry_type().unwrap(), theirs);
    }

    #[test]
    fn an_incompatible_copy_is_refused() {
        other_copy::<Resized>(sys::ferry_type_desc {
            release: Some(other_copys_release),
            size: 16,
            ..Resized::DESC
        });
        let err = Resized::ferry_type().unwrap_err();
        assert_eq!(err.status, Status::TYPE);
        assert!(
            err.message.contains("\"types.Resized\"")
                && err.message.contains("Resized")
                && err.message.contains("incompatible")
                && err.message.contains("size 16"),
            "{err}"
        );
    }

    #[test]
    fn descriptors_compare_by_shape() {
        let a = Copied::DESC;
        assert!(compatible(&a, &a));
        let weak = sys::ferry_type_desc {
            retain: Some(retain_arc::<u64>),
            ..Copied::DESC
        };
        assert!(!compatible(&a, &weak));
        assert_eq!(functions(&weak), "release+retain");
        let flags = sys::ferry_type_desc {
            flags: 0,
            ..Copied::DESC
        };
        assert!(!compatible(&a, &flags));
        let align = sys::ferry_type_desc {
            align: 1,
            ..Copied::DESC
        };
        assert!(!compatible(&a, &align));
    }

    #[test]
    fn a_rust_bound_type_is_no_host_layout() {
        // Even if a descriptor bound to a Rust type said FERRY_PLAIN (the
        // kinds' constructors never set it), a layout view is refused.
        assert_eq!(
            kind::Boxed::descriptor::<u64>(c_name("x\0"), sys::FERRY_PLAIN).flags,
            0
        );
        let t = register(&sys::ferry_type_desc {
            name: c_name("types.Bound\0").as_ptr(),
            flags: sys::FERRY_SEND | sys::FERRY_SYNC | sys::FERRY_PLAIN,
            ..Copied::DESC
        });
        assert_eq!(host_type("types.Bound", Some((8, 8))).unwrap(), t);
        bind::<Copied, kind::Boxed>(t, "types.Bound").unwrap();
        let err = host_type("types.Bound", Some((8, 8))).unwrap_err();
        assert_eq!(err.status, Status::TYPE);
        assert!(err.message.contains("is a Rust type"), "{err}");
        // Without a layout, it is an ordinary handle type.
        assert_eq!(host_type("types.Bound", None).unwrap(), t);
    }

    #[test]
    fn markers_name_the_registered_type() {
        let t = register(&sys::ferry_type_desc {
            name: c_name("types.Marked\0").as_ptr(),
            ..Copied::DESC
        });
        let m = marker_name(t, "types.Marked").unwrap();
        let m = m.to_str().unwrap();
        assert!(
            m.starts_with("ferry.rust:") && m.ends_with(":types.Marked"),
            "{m}"
        );
        let long = "n".repeat(255);
        assert_eq!(marker_name(t, &long).unwrap().as_bytes().len(), 255);
    }
}
