//! The crate against the real libferry: every kind's life from Rust, the
//! ledger's view of it, lends, the boundary and C-registered types.

use ferry::{Handle, Kind, Status};
use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

static POINT_DROPS: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug)]
struct Point {
    x: i64,
}
impl Drop for Point {
    fn drop(&mut self) {
        POINT_DROPS.fetch_add(1, Ordering::SeqCst);
    }
}
ferry::export!(Point, "test.Point", Boxed);

#[derive(Debug)]
struct Counter {
    hits: AtomicUsize,
}
ferry::export!(Counter, "test.Counter", Shared);

struct Tree {
    label: String,
}
ferry::export!(Tree, "test.Tree", Local);

struct NotSync {
    cell: Cell<u32>,
}
ferry::export!(NotSync, "test.NotSync", Boxed);

struct Guarded {
    inner: Mutex<Vec<u32>>,
}
ferry::export!(Guarded, "test.Guarded", Shared);

// Tests share one process (and one table), so each checks its own type's
// ledger deltas and its own drop counters; the tests that use Point (whose
// drops and ledger they count) run one at a time.
static LOCK: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn box_round_trip_and_double_drop() {
    let _g = serial();
    let before = POINT_DROPS.load(Ordering::SeqCst);
    let l0 = ferry::ledger_of::<Point>().unwrap();
    let h = Handle::new(Box::new(Point { x: 7 })).unwrap();
    assert_eq!(h.kind().unwrap(), Kind::Unique);
    assert_eq!(h.borrow().unwrap().x, 7);
    h.borrow_mut().unwrap().x = 8;
    let b = h.take().unwrap();
    assert_eq!(b.x, 8);
    assert_eq!(h.take().unwrap_err().status, Status::STALE);
    drop(b);
    assert_eq!(POINT_DROPS.load(Ordering::SeqCst), before + 1);

    let h = Handle::new(Box::new(Point { x: 1 })).unwrap();
    let line = line!() + 1;
    h.drop_handle().unwrap();
    let err = h.drop_handle().unwrap_err();
    assert_eq!(err.status, Status::STALE);
    assert!(
        err.message
            .contains(&format!("released at {}:{}", file!(), line)),
        "{err}"
    );
    assert_eq!(POINT_DROPS.load(Ordering::SeqCst), before + 2);
    let l1 = ferry::ledger_of::<Point>().unwrap();
    assert_eq!(l1.created - l0.created, 2);
    assert_eq!(l1.taken - l0.taken, 1);
    assert_eq!(l1.dropped_by_rust - l0.dropped_by_rust, 1);
    assert_eq!(l1.live, l0.live);
}

#[test]
fn arc_strong_count_matches_live_handles() {
    let arc = Arc::new(Counter {
        hits: AtomicUsize::new(0),
    });
    let h = Handle::from_arc(arc.clone()).unwrap();
    let c = h.clone_handle().unwrap();
    assert_ne!(h, c);
    assert_eq!(Arc::strong_count(&arc), 3);
    c.borrow().unwrap().hits.fetch_add(1, Ordering::SeqCst);
    let w = h.downgrade().unwrap();
    assert_eq!(w.kind().unwrap(), Kind::Weak);
    assert_eq!(Arc::weak_count(&arc), 1);
    assert_eq!(
        w.to_arc().err().map(|e| e.status),
        Some(Status::KIND),
        "a weak is not an Arc"
    );
    let up = w.upgrade().unwrap();
    assert_eq!(Arc::strong_count(&arc), 4);
    up.drop_handle().unwrap();
    c.drop_handle().unwrap();
    let back = h.to_arc().unwrap();
    assert_eq!(Arc::strong_count(&arc), 2);
    drop(back);
    drop(arc);
    assert_eq!(w.upgrade().unwrap_err().status, Status::EXPIRED);
    w.drop_handle().unwrap();
}

#[test]
fn rc_is_pinned_to_its_thread() {
    let rc = Rc::new(Tree {
        label: "root".into(),
    });
    let h = Handle::from_rc(rc.clone()).unwrap();
    assert_eq!(Rc::strong_count(&rc), 2);
    assert_eq!(h.borrow().unwrap().label, "root");
    let status = std::thread::spawn(move || h.check().unwrap_err().status)
        .join()
        .unwrap();
    assert_eq!(status, Status::THREAD);
    let back = h.to_rc().unwrap();
    assert_eq!(Rc::strong_count(&rc), 2);
    drop(back);
}

#[test]
fn not_sync_borrowed_on_one_thread_at_a_time() {
    let h = Handle::new(Box::new(NotSync { cell: Cell::new(1) })).unwrap();
    let guard = h.borrow().unwrap();
    guard.cell.set(2);
    let other = std::thread::spawn(move || h.borrow().map(|_| ()).unwrap_err().status);
    assert_eq!(other.join().unwrap(), Status::THREAD);
    drop(guard);
    let moved = std::thread::spawn(move || h.take().unwrap().cell.get())
        .join()
        .unwrap();
    assert_eq!(
        moved, 2,
        "a Send value moves between threads once nobody borrows it"
    );
}

struct SharedCell {
    cell: Cell<u32>,
}
ferry::export!(SharedCell, "test.SharedCell", Shared);

#[test]
#[allow(clippy::arc_with_non_send_sync)] // the very case under test
fn arc_of_a_not_sync_type_stays_on_its_thread() {
    // Arc<T> is Send only when T is Sync: two threads could each hold a clone.
    let h = Handle::from_arc(Arc::new(SharedCell { cell: Cell::new(3) })).unwrap();
    let c = h.clone_handle().unwrap();
    let status = std::thread::spawn(move || c.check().unwrap_err().status)
        .join()
        .unwrap();
    assert_eq!(status, Status::THREAD);
    assert_eq!(c.to_arc().unwrap().cell.get(), 3);
    h.drop_handle().unwrap();
}

#[test]
fn arc_mutex_shared_across_threads() {
    let h = Handle::from_arc(Arc::new(Guarded {
        inner: Mutex::new(Vec::new()),
    }))
    .unwrap();
    let workers: Vec<_> = (0..4)
        .map(|i| {
            let mine = h.clone_handle().unwrap();
            std::thread::spawn(move || {
                mine.borrow().unwrap().inner.lock().unwrap().push(i);
                mine.drop_handle().unwrap();
            })
        })
        .collect();
    workers.into_iter().for_each(|w| w.join().unwrap());
    assert_eq!(h.to_arc().unwrap().inner.lock().unwrap().len(), 4);
}

#[test]
fn lend_revokes_on_return_and_on_panic() {
    let _g = serial();
    let p = Point { x: 3 };
    let kept = ferry::lend(&p, |h| {
        assert_eq!(h.kind().unwrap(), Kind::Lent);
        assert_eq!(h.borrow().unwrap().x, 3);
        assert_eq!(h.drop_handle().unwrap_err().status, Status::KIND);
        h
    })
    .unwrap();
    assert_eq!(
        kept.check().unwrap_err().status,
        Status::STALE,
        "used after lend returned"
    );

    let mut q = Point { x: 4 };
    let leaked = std::sync::Mutex::new(Handle::null());
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = ferry::lend_mut(&mut q, |h| {
            *leaked.lock().unwrap() = h;
            h.borrow_mut().unwrap().x = 5;
            panic!("inside a lend");
        });
    }));
    assert!(caught.is_err());
    assert_eq!(
        leaked.lock().unwrap().check().unwrap_err().status,
        Status::STALE
    );
    assert_eq!(q.x, 5);
}

#[test]
fn boundary_turns_panics_and_errors_into_statuses() {
    let s = ferry::boundary(|| -> () { panic!("fixture exploded") });
    assert_eq!(s, Status::PANIC);
    let msg = last_error();
    assert!(msg.starts_with("FERRY_E_PANIC: "), "{msg}");
    assert!(msg.contains("fixture exploded"), "{msg}");

    let stale = Handle::<Point>::null();
    let s = ferry::boundary(|| stale.check());
    assert_eq!(s, Status::NULL);
    let msg = last_error();
    assert!(
        msg.starts_with("FERRY_E_NULL: ferry_check: null handle"),
        "recorded once: {msg}"
    );
    assert_eq!(ferry::boundary(|| ()), Status::OK);
}

/// What a C host does: registers its type (a boxed u32 released by
/// `release`) and boxes one object, returning the handle.
fn host_box(
    name: &'static std::ffi::CStr,
    flags: u32,
    release: unsafe extern "C" fn(*mut std::ffi::c_void),
    value: u32,
    site: &'static std::ffi::CStr,
) -> ferry::sys::ferry_handle {
    use ferry::sys;
    let desc = sys::ferry_type_desc {
        name: name.as_ptr(),
        flags,
        release: Some(release),
        retain: None,
        downgrade: None,
        upgrade: None,
        release_weak: None,
        size: 0,
        align: 0,
    };
    let mut t = std::ptr::null();
    let mut raw = sys::ferry_handle::default();
    // SAFETY: desc, t, raw and the strings are valid; the object is a boxed
    // u32, which `release` frees.
    unsafe {
        assert_eq!(sys::ferry_type_register(&desc, &mut t), 0);
        let obj = Box::into_raw(Box::new(value)).cast();
        assert_eq!(sys::ferry_box_at(t, obj, &mut raw, site.as_ptr()), 0);
    }
    raw
}

ferry::host_type!(HostImage, "test.HostImage");

static HOST_RELEASES: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn host_release(p: *mut std::ffi::c_void) {
    HOST_RELEASES.fetch_add(1, Ordering::SeqCst);
    // SAFETY: the test made p with Box::into_raw below.
    drop(unsafe { Box::from_raw(p.cast::<u32>()) });
}

#[test]
fn host_objects_are_released_once_by_rust() {
    use ferry::sys;
    let raw = host_box(
        c"test.HostImage",
        sys::FERRY_SEND | sys::FERRY_SYNC,
        host_release,
        99u32,
        c"host.c:1",
    );
    let owned = ferry::Owned::<HostImage>::from_handle(Handle::from_raw(raw)).unwrap();
    // SAFETY: the host's object is a u32.
    assert_eq!(
        unsafe { *owned.borrow().unwrap().as_ptr().cast::<u32>() },
        99
    );
    let wrong = Handle::<Point>::from_raw(raw);
    assert_eq!(wrong.check().unwrap_err().status, Status::TYPE);
    std::thread::spawn(move || drop(owned)).join().unwrap();
    assert_eq!(HOST_RELEASES.load(Ordering::SeqCst), 1);
    assert_eq!(
        Handle::<HostImage>::from_raw(raw)
            .check()
            .unwrap_err()
            .status,
        Status::STALE
    );
}

#[test]
fn a_handle_cast_to_another_type_is_refused_and_untouched() {
    let _g = serial();
    let before = POINT_DROPS.load(Ordering::SeqCst);
    let h = Handle::new(Box::new(Point { x: 5 })).unwrap();
    let wrong = h.cast::<Counter>();
    assert_eq!(wrong.drop_handle().unwrap_err().status, Status::TYPE);
    assert_eq!(wrong.clone_handle().unwrap_err().status, Status::TYPE);
    let err = wrong.to_arc().expect_err("a Point is not an Arc<Counter>");
    assert_eq!(err.status, Status::TYPE);
    assert!(
        err.message.contains("test.Counter") && err.message.contains("test.Point"),
        "{err}"
    );
    assert_eq!(POINT_DROPS.load(Ordering::SeqCst), before);
    assert_eq!(h.take().unwrap().x, 5);
}

#[test]
fn boundary_out_checks_the_out_pointer_before_any_work() {
    let mut ran = false;
    let s = ferry::boundary_out(None::<&mut u32>, "out", || {
        ran = true;
        Ok::<_, ferry::Error>(1)
    });
    assert_eq!(s, Status::NULL);
    assert!(!ran, "nothing happens when the out-pointer is NULL");
    assert!(last_error().contains("null out-pointer `out`"));
    let mut v = 0u32;
    assert_eq!(
        ferry::boundary_out(Some(&mut v), "out", || Ok::<_, ferry::Error>(7)),
        Status::OK
    );
    assert_eq!(v, 7);
    let s = ferry::boundary_out(Some(&mut v), "out", || {
        Err::<u32, _>(ferry::Error::new(Status::KIND, "no"))
    });
    assert_eq!(s, Status::KIND);
    assert_eq!(v, 7, "written only on success");
}

struct Exploding;
impl From<Exploding> for ferry::Error {
    fn from(_: Exploding) -> ferry::Error {
        panic!("the error conversion exploded")
    }
}

#[test]
fn boundary_catches_panics_in_the_error_conversion() {
    let s = ferry::boundary(|| Err::<(), Exploding>(Exploding));
    assert_eq!(s, Status::PANIC);
    assert!(last_error().contains("the error conversion exploded"));
}

struct ImpostorA {
    _bits: u64,
}
ferry::export!(ImpostorA, "test.Impostor", Boxed);
struct ImpostorB {
    _bits: u64,
}
ferry::export!(ImpostorB, "test.Impostor", Boxed);

#[test]
fn two_rust_types_cannot_share_a_name() {
    use ferry::Exported;
    let a = ImpostorA::ferry_type();
    let b = ImpostorB::ferry_type();
    // Whichever registered first owns the name; the other is refused even
    // though size, alignment, flags and kinds all agree.
    assert!(a.is_ok() != b.is_ok(), "exactly one registers");
    let refused = a.err().or(b.err()).unwrap();
    assert_eq!(refused.status, Status::TYPE);
}

ferry::host_type!(HostPinned, "test.HostPinned");

// Its own counter: tests run in parallel, and HOST_RELEASES belongs to the
// test above.
static PINNED_RELEASES: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn pinned_release(p: *mut std::ffi::c_void) {
    PINNED_RELEASES.fetch_add(1, Ordering::SeqCst);
    // SAFETY: the test made p with Box::into_raw below.
    drop(unsafe { Box::from_raw(p.cast::<u32>()) });
}

#[test]
fn owned_refuses_a_host_type_that_is_not_send() {
    use ferry::sys;
    let raw = host_box(c"test.HostPinned", 0, pinned_release, 7u32, c"host.c:2");
    let h = Handle::<HostPinned>::from_raw(raw);
    let err = ferry::Owned::from_handle(h)
        .err()
        .expect("a !Send host object");
    assert_eq!(err.status, Status::THREAD);
    let before = PINNED_RELEASES.load(Ordering::SeqCst);
    // SAFETY: the host ends its own handle.
    assert_eq!(
        unsafe { sys::ferry_drop_at(raw, 0, c"host.c:3".as_ptr()) },
        0
    );
    assert_eq!(PINNED_RELEASES.load(Ordering::SeqCst), before + 1);
}

#[test]
fn send_and_sync_are_detected() {
    use ferry::autotraits::{NotSend as _, NotSync as _, Probe};
    assert_eq!(Probe::<Point>::SEND, ferry::sys::FERRY_SEND);
    assert_eq!(Probe::<Point>::SYNC, ferry::sys::FERRY_SYNC);
    assert_eq!(Probe::<NotSync>::SEND, ferry::sys::FERRY_SEND);
    assert_eq!(Probe::<NotSync>::SYNC, 0);
    assert_eq!(Probe::<Rc<u8>>::SEND, 0);
}

fn last_error() -> String {
    // SAFETY: never NULL.
    unsafe { std::ffi::CStr::from_ptr(ferry::sys::ferry_last_error()) }
        .to_string_lossy()
        .into_owned()
}
