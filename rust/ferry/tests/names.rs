//! A type name belongs to one Rust type: a Rust type never takes over a
//! type that someone else registered under its name — a C host's, or
//! another library's that a plugin host registered from the plugin's type
//! list (before the plugin's own code bound it) — even when the layouts
//! agree. Taking it over would run the other type's release on this type's
//! objects (the review's segfault).

use ferry::sys::{self, ferry_type_desc};
use ferry::{Exported, Handle, Status, TypeDesc};
use std::ffi::{c_void, CStr};
use std::sync::atomic::{AtomicUsize, Ordering};

static ALPHA_DROPS: AtomicUsize = AtomicUsize::new(0);
static BETA_DROPS: AtomicUsize = AtomicUsize::new(0);

/// The plugin's type (24 bytes, align 8, a Vec inside).
pub struct Alpha {
    v: Vec<u8>,
}
impl Drop for Alpha {
    fn drop(&mut self) {
        ALPHA_DROPS.fetch_add(1, Ordering::SeqCst);
    }
}
ferry::export!(Alpha, "names.Dup", Boxed);

/// Another library's type under the same name, with the same size, align,
/// flags and functions present: only its identity differs.
pub struct Beta {
    a: u64,
    _b: u64,
    _c: u64,
}
impl Drop for Beta {
    fn drop(&mut self) {
        BETA_DROPS.fetch_add(1, Ordering::SeqCst);
    }
}
ferry::export!(Beta, "names.Dup", Boxed);

/// A Rust type exported under a name a C host registered.
pub struct Gamma {
    _x: u32,
}
ferry::export!(Gamma, "names.Host", Boxed);

fn register(desc: &ferry_type_desc) -> *const sys::ferry_type {
    let mut t = std::ptr::null();
    // SAFETY: desc and t are valid; libferry copies the descriptor.
    assert_eq!(unsafe { sys::ferry_type_register(desc, &mut t) }, 0);
    t
}

fn find(name: &CStr) -> *const sys::ferry_type {
    // SAFETY: a NUL-terminated name.
    unsafe { sys::ferry_type_find(name.as_ptr()) }
}

#[test]
fn another_librarys_type_is_never_taken_over() {
    assert_eq!(
        (std::mem::size_of::<Alpha>(), std::mem::align_of::<Alpha>()),
        (std::mem::size_of::<Beta>(), std::mem::align_of::<Beta>()),
        "the layouts agree: only the identity tells the types apart"
    );
    // What ferry_plugin_open does with a plugin's type list: registers the
    // descriptors, before any of the plugin's code runs (so nothing of
    // Rust's is bound to the type yet).
    let plugin = register(&Alpha::DESC);

    // Another library's Beta is refused, on every attempt: its first
    // attempt must leave nothing behind that a later one could take for a
    // copy of Beta having registered the type.
    for attempt in 0..3 {
        let err = Beta::ferry_type().expect_err("Beta must not take over Alpha's type");
        assert_eq!(err.status, Status::TYPE, "attempt {attempt}: {err}");
        assert!(
            err.message.contains("names.Dup") && err.message.contains("Beta"),
            "attempt {attempt}: {err}"
        );
        let err = Handle::new(Box::new(Beta { a: 1, _b: 2, _c: 3 }))
            .expect_err("no Beta handle under Alpha's type");
        assert_eq!(err.status, Status::TYPE);
    }
    assert_eq!(
        BETA_DROPS.load(Ordering::SeqCst),
        3,
        "the refused Betas dropped"
    );

    // The plugin's own code still gets its type (Beta claimed nothing).
    let alpha = Alpha::ferry_type().expect("the plugin's own type");
    assert_eq!(alpha.as_ptr(), plugin);
    let h = Handle::new(Box::new(Alpha { v: vec![1, 2, 3] })).unwrap();
    assert_eq!(h.borrow().unwrap().v.len(), 3);
    h.drop_handle().unwrap();
    assert_eq!(ALPHA_DROPS.load(Ordering::SeqCst), 1);

    // And now that Alpha bound it, Beta is refused as another Rust type.
    let err = Beta::ferry_type().expect_err("bound to Alpha");
    assert_eq!(err.status, Status::TYPE);
    assert!(err.message.contains("another Rust type"), "{err}");
    let beta = Beta { a: 7, _b: 0, _c: 0 };
    assert_eq!(beta.a, 7);
}

unsafe extern "C" fn host_release(p: *mut c_void) {
    // SAFETY: the test made p with Box::into_raw.
    drop(unsafe { Box::from_raw(p.cast::<u32>()) });
}

#[test]
fn a_c_hosts_type_is_never_taken_over() {
    let host = register(&ferry_type_desc {
        name: c"names.Host".as_ptr(),
        flags: sys::FERRY_SEND | sys::FERRY_SYNC,
        release: Some(host_release),
        retain: None,
        downgrade: None,
        upgrade: None,
        release_weak: None,
        size: std::mem::size_of::<Gamma>(),
        align: std::mem::align_of::<Gamma>(),
    });
    for _ in 0..2 {
        let err = Gamma::ferry_type().expect_err("the host's type is not Gamma's");
        assert_eq!(err.status, Status::TYPE);
        assert!(
            err.message.contains("names.Host") && err.message.contains("Gamma"),
            "{err}"
        );
    }
    assert_eq!(find(c"names.Host"), host, "the host's type is untouched");
}
