//! `ferry::plugin!` without a host: the descriptor it exports (magic, ABI,
//! names, signature strings, type descriptors identical to the lazy
//! registration's), and its entries called the way the host calls them.
//! Loading real plugins through `ferry_plugin_open` is the C suite's part.

use ferry::plugin::{erase, sig_bytes, sig_len};
use ferry::sys::{self, ferry_plugin_function, ferry_type_desc};
use ferry::{Exported, Handle, HostRef, Owned, Status, TypeDesc};
use std::cell::Cell;
use std::ffi::{c_char, c_void, CStr};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

static BLOB_DROPS: AtomicUsize = AtomicUsize::new(0);
/// Tests that count Blob drops run one at a time (cargo runs tests in
/// parallel, and they all make Blobs).
static BLOB_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn blob_test() -> std::sync::MutexGuard<'static, ()> {
    BLOB_TESTS.lock().unwrap_or_else(|e| e.into_inner())
}

pub struct Blob {
    value: i64,
}
impl Drop for Blob {
    fn drop(&mut self) {
        BLOB_DROPS.fetch_add(1, Ordering::SeqCst);
    }
}
ferry::export!(Blob, "ptest.Blob", Boxed);

pub struct Text {
    text: String,
}
ferry::export!(Text, "ptest.Text", Shared);

pub struct Tally {
    n: Cell<u32>,
}
ferry::export!(Tally, "ptest.Tally", Local);

/// Send + !Sync: its Arc is neither.
pub struct Cellar {
    _n: Cell<u32>,
}
ferry::export!(Cellar, "ptest.Cellar", Shared);

ferry::plain! {
    /// What the test "host" registers as ptest.Pair (size 8, align 4).
    pub struct PairData {
        pub a: u32,
        pub b: u32,
    }
}
ferry::host_type!(pub Pair, "ptest.Pair", layout = PairData);
ferry::host_type!(pub Opaque, "ptest.Opaque");
ferry::host_type!(pub Misfit, "ptest.Misfit", layout = PairData);

ferry::plugin! {
    name: "ptest",
    version: "9.8.7",
    unloadable: true,
    types: [Blob, Text, Tally],
    functions: {
        /// Every scalar in, their sum out.
        ///   Second line.
        #[must_use]
        fn scalars(a: i8, b: i16, c: i32, d: i64, e: u8, f: u16, g: u32, h: u64, x: f32, y: f64, z: bool) -> f64 {
            let ints = i64::from(a) + i64::from(b) + i64::from(c) + d
                + i64::from(e) + i64::from(f) + i64::from(g) + h as i64;
            ints as f64 + f64::from(x) + y + f64::from(u8::from(z))
        }
        fn nothing() {}
        fn text(s: &str) -> u64 { s.len() as u64 }
        fn owned(a: Box<Blob>, b: Arc<Text>, c: Rc<Tally>, d: Handle<Blob>, e: Owned<Pair>) -> i64 {
            let _ = d.drop_handle();
            let _ = (b.text.len(), c.n.get());
            drop(e);
            a.value
        }
        fn borrowed(a: &Blob, b: &mut Blob, c: HostRef<Pair>, d: HostRef<Opaque>) -> i64 {
            b.value += 1;
            let _ = d.as_ptr();
            a.value + i64::from(c.a + c.b)
        }
        fn two_blobs(a: Box<Blob>, b: Box<Blob>) -> i64 { a.value + b.value }
        fn make_box(v: i64) -> Box<Blob> { Box::new(Blob { value: v }) }
        fn make_arc(s: &str) -> Arc<Text> { Arc::new(Text { text: s.to_owned() }) }
        fn make_rc() -> Rc<Tally> { Rc::new(Tally { n: Cell::new(0) }) }
        fn make_handle() -> ferry::Result<Handle<Blob>> { Handle::new(Box::new(Blob { value: 1 })) }
        fn pass_owned(p: Owned<Pair>) -> Owned<Pair> { p }
        fn name() -> &'static CStr { c"ptest" }
        fn refuse(code: i32) -> ferry::Result<()> {
            Err(ferry::Error::new(Status::KIND, format!("refused {code}")))
        }
        fn boom() -> Result<u32, ferry::Error> { panic!("boom was called") }
    }
}

fn cstr(p: *const c_char) -> &'static str {
    assert!(!p.is_null());
    // SAFETY: the descriptor's strings are static and NUL-terminated.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap()
}

fn functions() -> &'static [ferry_plugin_function] {
    let d = &ferry_plugin_descriptor;
    // SAFETY: the descriptor's array is static and has nfunctions entries.
    unsafe { std::slice::from_raw_parts(d.functions, d.nfunctions as usize) }
}

fn function(name: &str) -> &'static ferry_plugin_function {
    functions()
        .iter()
        .find(|f| cstr(f.name) == name)
        .unwrap_or_else(|| panic!("no function {name}"))
}

fn types() -> &'static [ferry_type_desc] {
    let d = &ferry_plugin_descriptor;
    // SAFETY: the descriptor's array is static and has ntypes entries.
    unsafe { std::slice::from_raw_parts(d.types, d.ntypes as usize) }
}

#[test]
fn the_descriptor_names_the_plugin() {
    let d = &ferry_plugin_descriptor;
    assert_eq!(d.magic, 0x474C_5059_5252_4546);
    assert_eq!(d.magic.to_le_bytes(), *b"FERRYPLG");
    assert_eq!(d.abi_version, 1);
    assert_eq!(d.flags, sys::FERRY_PLUGIN_UNLOADABLE);
    assert_eq!(cstr(d.name), "ptest");
    assert_eq!(cstr(d.version), "9.8.7");
    let ours = sys::ferry_table_id as unsafe extern "C" fn() -> usize;
    assert_eq!(d.table_id.map(|f| f as usize), Some(ours as usize));
    assert_eq!(d.nfunctions, 14);
    assert_eq!(
        cstr(function("scalars").doc),
        "Every scalar in, their sum out.   Second line."
    );
    assert!(function("nothing").doc.is_null());
}

#[test]
fn signatures_spell_every_kind() {
    let expect = [
        ("scalars", "(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, bool) -> f64"),
        ("nothing", "()"),
        ("text", "(str) -> u64"),
        ("owned", "(own<ptest.Blob>, own<ptest.Text>, own<ptest.Tally>, own<ptest.Blob>, own<ptest.Pair>) -> i64"),
        ("borrowed", "(ref<ptest.Blob>, mut<ptest.Blob>, ref<ptest.Pair>, ref<ptest.Opaque>) -> i64"),
        ("two_blobs", "(own<ptest.Blob>, own<ptest.Blob>) -> i64"),
        ("make_box", "(i64) -> own<ptest.Blob>"),
        ("make_arc", "(str) -> own<ptest.Text>"),
        ("make_rc", "() -> own<ptest.Tally>"),
        ("make_handle", "() -> own<ptest.Blob>"),
        ("pass_owned", "(own<ptest.Pair>) -> own<ptest.Pair>"),
        ("name", "() -> str"),
        ("refuse", "(i32)"),
        ("boom", "() -> u32"),
    ];
    for (name, sig) in expect {
        assert_eq!(cstr(function(name).signature), sig, "{name}");
        assert!(function(name).entry.is_some());
    }
    const ARGS: &[[&str; 3]] = &[["own<", "a.B", ">"], ["u8", "", ""]];
    const N: usize = sig_len(ARGS, Some(["str", "", ""]));
    let bytes: [u8; N] = sig_bytes(ARGS, Some(["str", "", ""]));
    assert_eq!(&bytes, b"(own<a.B>, u8) -> str\0");
}

fn same_desc(a: &ferry_type_desc, b: &ferry_type_desc) {
    assert_eq!(cstr(a.name), cstr(b.name));
    assert_eq!(a.flags, b.flags, "{}", cstr(a.name));
    let addr = |f: Option<unsafe extern "C" fn(*mut c_void) -> *mut c_void>| f.map(|f| f as usize);
    assert_eq!(a.release.map(|f| f as usize), b.release.map(|f| f as usize));
    assert_eq!(addr(a.retain), addr(b.retain));
    assert_eq!(addr(a.downgrade), addr(b.downgrade));
    assert_eq!(addr(a.upgrade), addr(b.upgrade));
    assert_eq!(
        a.release_weak.map(|f| f as usize),
        b.release_weak.map(|f| f as usize)
    );
    assert_eq!((a.size, a.align), (b.size, b.align));
}

/// The host registers the descriptor's types at open; the plugin's own
/// lazy registration must then be accepted as the same type.
#[test]
fn listed_types_are_the_lazy_registrations() {
    assert_eq!(types().len(), 3);
    for desc in types() {
        let mut t = std::ptr::null();
        // SAFETY: desc is a valid static descriptor; t a valid out-pointer.
        assert_eq!(unsafe { sys::ferry_type_register(desc, &mut t) }, 0);
    }
    let lazy = [Blob::ferry_type(), Text::ferry_type(), Tally::ferry_type()];
    for (desc, t) in types().iter().zip(lazy) {
        let t = t.expect("the same descriptor is accepted");
        assert_eq!(
            Some(t),
            ferry::TypeRef::find(
                CStr::from_bytes_until_nul(
                    // SAFETY: static NUL-terminated name.
                    unsafe { CStr::from_ptr(desc.name) }.to_bytes_with_nul()
                )
                .unwrap()
            )
        );
        // SAFETY: t is registered; its descriptor lives as long.
        same_desc(desc, unsafe { &*sys::ferry_type_descriptor(t.as_ptr()) });
    }
    same_desc(&types()[0], &Blob::DESC);
    assert_eq!(Blob::DESC.flags, sys::FERRY_SEND | sys::FERRY_SYNC);
    assert_eq!(Text::DESC.flags, sys::FERRY_SEND | sys::FERRY_SYNC);
    assert_eq!(Tally::DESC.flags, 0, "Rc is never Send");
    assert_eq!(Cellar::DESC.flags, 0, "Arc<T: !Sync> is not Send");
    assert_eq!((Blob::DESC.size, Blob::DESC.align), (8, 8));
    assert!(Text::DESC.retain.is_some() && Blob::DESC.retain.is_none());
}

/// What the host does: registers a C type and boxes one object.
fn host_object<V>(
    name: &'static CStr,
    flags: u32,
    size: usize,
    align: usize,
    value: V,
) -> sys::ferry_handle {
    unsafe extern "C" fn release<V>(p: *mut c_void) {
        // SAFETY: made by Box::into_raw below.
        drop(unsafe { Box::from_raw(p.cast::<V>()) });
    }
    let desc = ferry_type_desc {
        name: name.as_ptr(),
        flags,
        release: Some(release::<V>),
        retain: None,
        downgrade: None,
        upgrade: None,
        release_weak: None,
        size,
        align,
    };
    let mut t = std::ptr::null();
    let mut h = sys::ferry_handle::default();
    // SAFETY: valid descriptor and out-pointers; the object is a boxed V.
    unsafe {
        let s = sys::ferry_type_register(&desc, &mut t);
        assert!(s == 0 || !sys::ferry_type_find(name.as_ptr()).is_null());
        let t = sys::ferry_type_find(name.as_ptr());
        let obj = Box::into_raw(Box::new(value)).cast();
        assert_eq!(sys::ferry_box_at(t, obj, &mut h, c"host.c:1".as_ptr()), 0);
    }
    h
}

type Entry2 = extern "C" fn(Handle<Blob>, Handle<Blob>, Option<&mut i64>) -> Status;
type Entry0 = extern "C" fn() -> Status;

fn entry<F: Copy>(name: &str) -> F {
    let e = function(name).entry.unwrap();
    assert_eq!(std::mem::size_of::<F>(), std::mem::size_of_val(&e));
    // SAFETY: the caller names the shape the signature describes.
    unsafe { std::mem::transmute_copy(&e) }
}

fn last_error() -> String {
    // SAFETY: never NULL.
    unsafe { CStr::from_ptr(sys::ferry_last_error()) }
        .to_string_lossy()
        .into_owned()
}

#[test]
fn a_bad_argument_still_releases_the_owned_ones() {
    let _serial = blob_test();
    let two: Entry2 = entry("two_blobs");
    let a = Handle::new(Box::new(Blob { value: 2 })).unwrap();
    let b = Handle::new(Box::new(Blob { value: 3 })).unwrap();
    let mut out = 0;
    assert_eq!(two(a, b, Some(&mut out)), Status::OK);
    assert_eq!(out, 5);
    assert_eq!(a.check().unwrap_err().status, Status::STALE);

    // The first argument is bad: the second is still taken and dropped.
    let before = BLOB_DROPS.load(Ordering::SeqCst);
    let b = Handle::new(Box::new(Blob { value: 3 })).unwrap();
    assert_eq!(two(Handle::null(), b, Some(&mut out)), Status::NULL);
    assert_eq!(BLOB_DROPS.load(Ordering::SeqCst), before + 1);
    assert_eq!(b.check().unwrap_err().status, Status::STALE);

    // A NULL out-pointer fails the call; the callee still owned the units.
    let a = Handle::new(Box::new(Blob { value: 2 })).unwrap();
    let b = Handle::new(Box::new(Blob { value: 3 })).unwrap();
    assert_eq!(two(a, b, None), Status::NULL);
    assert_eq!(BLOB_DROPS.load(Ordering::SeqCst), before + 3);
}

#[test]
fn panics_and_errors_become_statuses() {
    let boom: extern "C" fn(Option<&mut u32>) -> Status = entry("boom");
    let mut out = 7;
    assert_eq!(boom(Some(&mut out)), Status::PANIC);
    assert_eq!(out, 7);
    let msg = last_error();
    assert!(
        msg.contains("ptest.boom") && msg.contains("boom was called"),
        "{msg}"
    );

    let refuse: extern "C" fn(i32) -> Status = entry("refuse");
    assert_eq!(refuse(42), Status::KIND);
    assert!(last_error().contains("refused 42"), "{}", last_error());

    let nothing: Entry0 = entry("nothing");
    assert_eq!(nothing(), Status::OK);

    let name: extern "C" fn(Option<&mut *const c_char>) -> Status = entry("name");
    let mut s = std::ptr::null();
    assert_eq!(name(Some(&mut s)), Status::OK);
    assert_eq!(cstr(s), "ptest");

    let text: extern "C" fn(ferry::CStrArg, Option<&mut u64>) -> Status = entry("text");
    let mut n = 0;
    assert_eq!(text(c"four".into(), Some(&mut n)), Status::OK);
    assert_eq!(n, 4);
    // SAFETY: a NULL string is what a C caller may pass.
    let null: ferry::CStrArg = unsafe { std::mem::transmute(std::ptr::null::<c_char>()) };
    assert_eq!(text(null, Some(&mut n)), Status::NULL);
}

#[test]
fn host_layouts_are_read_after_a_size_check() {
    let _serial = blob_test();
    let pair = host_object(c"ptest.Pair", PLAIN, 8, 4, [20u32, 22u32]);
    let opaque = host_object(c"ptest.Opaque", SEND_SYNC, 0, 0, 5u8);
    let borrowed: extern "C" fn(
        Handle<Blob>,
        Handle<Blob>,
        Handle<Pair>,
        Handle<Opaque>,
        Option<&mut i64>,
    ) -> Status = entry("borrowed");
    let a = Handle::new(Box::new(Blob { value: 100 })).unwrap();
    let b = Handle::new(Box::new(Blob { value: 1 })).unwrap();
    let mut out = 0;
    let (p, o) = (Handle::from_raw(pair), Handle::from_raw(opaque));
    assert_eq!(borrowed(a, b, p, o, Some(&mut out)), Status::OK);
    assert_eq!(out, 142);
    assert_eq!(b.borrow().unwrap().value, 2);
    // Borrowed arguments stay the caller's, and no borrow is left behind.
    a.drop_handle().unwrap();
    b.drop_handle().unwrap();
    let owned = Owned::<Pair>::from_handle(p).unwrap();
    assert_eq!(owned.borrow().unwrap().b, 22);
    drop(owned);
    Owned::<Opaque>::from_handle(o).unwrap();

    // Registered with another size than the Rust layout's.
    let misfit = host_object(c"ptest.Misfit", PLAIN, 4, 4, 1u32);
    let err = Owned::<Misfit>::from_handle(Handle::from_raw(misfit))
        .err()
        .expect("size 4 is not PairData's 8");
    assert_eq!(err.status, Status::TYPE);
    assert!(
        err.message.contains("size 4") && err.message.contains("size 8"),
        "{err}"
    );
    // SAFETY: the host ends its own handle.
    assert_eq!(
        unsafe { sys::ferry_drop_at(misfit, 0, std::ptr::null()) },
        0
    );
}

const SEND_SYNC: u32 = sys::FERRY_SEND | sys::FERRY_SYNC;
const PLAIN: u32 = SEND_SYNC | sys::FERRY_PLAIN;

ferry::host_type!(pub Unplain, "ptest.Unplain", layout = PairData);

/// A Rust type with a padding byte, and a plugin's attempt to read it
/// through a "host" layout that has no padding.
pub struct Padded {
    a: u8,
    b: u16,
}
ferry::export!(Padded, "ptest.Padded", Boxed);
ferry::host_type!(pub FakePadded, "ptest.Padded", layout = [u16; 2]);

/// A Shared Rust type (an atomic inside) seen as plain u64s.
pub struct Atomic {
    n: AtomicUsize,
}
ferry::export!(Atomic, "ptest.Atomic", Shared);
ferry::host_type!(pub FakeAtomic, "ptest.Atomic", layout = [usize; 1]);

#[test]
fn layouts_need_a_plain_host_type() {
    // The right size and align, but the host did not declare it plain data.
    let unplain = host_object(c"ptest.Unplain", SEND_SYNC, 8, 4, [1u32, 2u32]);
    let err = Owned::<Unplain>::from_handle(Handle::from_raw(unplain))
        .err()
        .expect("not FERRY_PLAIN");
    assert_eq!(err.status, Status::TYPE);
    assert!(
        err.message
            .contains("\"ptest.Unplain\" is not declared FERRY_PLAIN by the host"),
        "{err}"
    );
    // SAFETY: the host ends its own handle.
    assert_eq!(
        unsafe { sys::ferry_drop_at(unplain, 0, std::ptr::null()) },
        0
    );

    // A Rust object is never plain data: its descriptor has no FERRY_PLAIN.
    assert_eq!(Padded::DESC.flags & sys::FERRY_PLAIN, 0);
    let p = Handle::new(Box::new(Padded { a: 1, b: 2 })).unwrap();
    assert_eq!(std::mem::size_of::<Padded>(), 4, "a padding byte");
    let err = FakePadded::ferry_type().expect_err("a Rust type is no host layout");
    assert_eq!(err.status, Status::TYPE);
    assert!(err.message.contains("FERRY_PLAIN"), "{err}");
    let err = Owned::<FakePadded>::from_handle(Handle::from_raw(p.raw()))
        .err()
        .expect("refused");
    assert_eq!(err.status, Status::TYPE);
    let back = p.take().unwrap();
    assert_eq!((back.a, back.b), (1, 2));

    let shared = Handle::from_arc(Arc::new(Atomic {
        n: AtomicUsize::new(3),
    }))
    .unwrap();
    let err = FakeAtomic::ferry_type().expect_err("atomics are not plain data");
    assert_eq!(err.status, Status::TYPE);
    assert!(err.message.contains("FERRY_PLAIN"), "{err}");
    assert_eq!(shared.to_arc().unwrap().n.load(Ordering::SeqCst), 3);
}

#[test]
fn erase_keeps_the_address() {
    extern "C" fn f(_: u32) -> Status {
        Status::OK
    }
    let p: extern "C" fn(u32) -> Status = f;
    assert_eq!(erase(p) as usize, p as usize);
}
