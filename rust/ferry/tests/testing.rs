//! `ferry::testing`: the ledger assertions pass on code that ends its
//! handles and panic, with the diff, on code that does not.
//!
//! Each test marks types no other test uses, so the per-type marks are
//! exact while the tests run in parallel. The tests that mark all types take the lock
//! exclusively; the others share it (the pattern docs/testing.md suggests).

use ferry::testing::LedgerMark;
use ferry::Handle;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, RwLockReadGuard, RwLockWriteGuard};

struct Balanced;
ferry::export!(Balanced, "testing.Balanced", Boxed);
struct Mine;
ferry::export!(Mine, "testing.Mine", Boxed);
struct Other;
ferry::export!(Other, "testing.Other", Boxed);
struct BlockA;
ferry::export!(BlockA, "testing.BlockA", Boxed);
struct BlockB;
ferry::export!(BlockB, "testing.BlockB", Boxed);
struct Clean;
ferry::export!(Clean, "testing.Clean", Boxed);
struct Leaked;
ferry::export!(Leaked, "testing.Leaked", Boxed);
struct Detailed;
ferry::export!(Detailed, "testing.Detailed", Boxed);
struct Cloned;
ferry::export!(Cloned, "testing.Cloned", Shared);
struct Kept;
ferry::export!(Kept, "testing.Kept", Boxed);
struct TooMany;
ferry::export!(TooMany, "testing.TooMany", Boxed);
struct InBlock;
ferry::export!(InBlock, "testing.InBlock", Boxed);
struct Many;
ferry::export!(Many, "testing.Many", Boxed);
struct Global;
ferry::export!(Global, "testing.Global", Boxed);

static ALL_TYPES: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// For tests that mark one type: they may run together.
fn shared() -> RwLockReadGuard<'static, ()> {
    ALL_TYPES.read().unwrap_or_else(|e| e.into_inner())
}

/// For tests that mark all types: nothing else may make or end handles.
fn exclusive() -> RwLockWriteGuard<'static, ()> {
    ALL_TYPES.write().unwrap_or_else(|e| e.into_inner())
}

/// The message of the panic `f` raises.
fn panic_message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => p.downcast_ref::<&str>().unwrap_or(&"?").to_string(),
    }
}

fn assert_in_order(message: &str, parts: &[&str]) {
    let mut rest = message;
    for part in parts {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => panic!("missing (in order) {part:?} in:\n{message}"),
        }
    }
}

#[test]
fn round_trip_is_balanced() {
    let _g = shared();
    let mark = LedgerMark::of::<Balanced>();
    let h = Handle::new(Box::new(Balanced)).unwrap();
    assert!(!mark.diff().is_balanced());
    assert_eq!(mark.diff().live_change(), 1);
    h.take().unwrap();
    mark.assert_balanced();
    let diff = mark.diff();
    assert_eq!(diff.counts().created, mark.counts().created + 1);
    assert_eq!(diff.counts().taken, mark.counts().taken + 1);
}

#[test]
fn a_mark_of_one_type_ignores_the_others() {
    let _g = shared();
    let mark = LedgerMark::of::<Mine>();
    let other = Handle::new(Box::new(Other)).unwrap();
    mark.assert_balanced();
    other.drop_handle().unwrap();
}

#[test]
#[should_panic(expected = "ferry ledger not balanced since the mark at ")]
fn a_leak_panics() {
    let _g = shared();
    let mark = LedgerMark::of::<Leaked>();
    Handle::new(Box::new(Leaked)).unwrap();
    mark.assert_balanced();
}

#[test]
fn the_diff_names_the_counters_and_the_live_handles() {
    let _g = shared();
    let before = Handle::new(Box::new(Detailed)).unwrap();
    let mark_line = line!() + 1;
    let mark = LedgerMark::of::<Detailed>();
    before.drop_handle().unwrap();
    let made_line = line!() + 1;
    let h1 = Handle::new(Box::new(Detailed)).unwrap();
    let h2 = Handle::new(Box::new(Detailed)).unwrap();
    let message = panic_message(|| mark.assert_balanced());
    assert_in_order(
        &message,
        &[
            &format!(
                "ferry ledger not balanced since the mark at {}:{mark_line} ",
                file!()
            ),
            "(type testing.Detailed): live 1 -> 2\n",
            "  created 1 -> 3 (+2)\n",
            "  dropped_by_rust 0 -> 1 (+1)\n",
            "  live 1 -> 2 (+1)\n",
            "live handles of testing.Detailed now:\n",
        ],
    );
    // One line per live handle, in slot order, which the free lists decide.
    let listed = &message[message.find(" now:\n").unwrap() + 6..];
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{message}");
    for line in [made_line, made_line + 1] {
        let site = format!(
            ": type testing.Detailed, kind unique, created at {}:{line}",
            file!()
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("  ferry: live handle 0x") && l.ends_with(&site)),
            "no line ending {site:?} in:\n{message}"
        );
    }
    h1.drop_handle().unwrap();
    h2.drop_handle().unwrap();
    mark.assert_live_change(-1);
}

#[test]
#[should_panic(expected = "  cloned 0 -> 1 (+1)\n")]
fn a_clone_left_live_panics() {
    let _g = shared();
    let h = Handle::from_arc(Arc::new(Cloned)).unwrap();
    let mark = LedgerMark::of::<Cloned>();
    h.clone_handle().unwrap();
    mark.assert_balanced();
}

#[test]
fn live_change_counts_handles_kept_on_purpose() {
    let _g = shared();
    let mark = LedgerMark::of::<Kept>();
    let h = Handle::new(Box::new(Kept)).unwrap();
    mark.assert_live_change(1);
    h.drop_handle().unwrap();
    mark.assert_live_change(0);
}

#[test]
#[should_panic(expected = "ferry ledger: live changed by +2, expected +1 since the mark at")]
fn live_change_other_than_expected_panics() {
    let _g = shared();
    let mark = LedgerMark::of::<TooMany>();
    Handle::new(Box::new(TooMany)).unwrap();
    Handle::new(Box::new(TooMany)).unwrap();
    mark.assert_live_change(1);
}

#[test]
fn the_macro_checks_each_type_and_returns_the_value() {
    let _g = shared();
    let value = ferry::assert_balanced!(BlockA, BlockB => {
        let a = Handle::new(Box::new(BlockA)).unwrap();
        let b = Handle::new(Box::new(BlockB)).unwrap();
        a.drop_handle().unwrap();
        b.drop_handle().unwrap();
        7
    });
    assert_eq!(value, 7);

    let line = line!() + 2;
    let message = panic_message(|| {
        ferry::assert_balanced!(Clean, InBlock => {
            Handle::new(Box::new(InBlock)).unwrap();
        })
    });
    assert_in_order(
        &message,
        &[
            &format!("not balanced since the mark at {}:{line} ", file!()),
            "(type testing.InBlock): live 0 -> 1\n",
            "  created 0 -> 1 (+1)\n",
        ],
    );
}

#[test]
fn long_lists_of_live_handles_are_cut() {
    let _g = shared();
    let mark = LedgerMark::of::<Many>();
    let handles: Vec<_> = (0..15)
        .map(|_| Handle::new(Box::new(Many)).unwrap())
        .collect();
    let message = panic_message(|| mark.assert_balanced());
    assert_eq!(
        message.matches("ferry: live handle 0x").count(),
        12,
        "{message}"
    );
    assert!(message.ends_with("\n  ... and 3 more"), "{message}");
    for h in handles {
        h.drop_handle().unwrap();
    }
    mark.assert_balanced();
}

#[test]
fn a_mark_of_all_types_sees_every_type() {
    let _g = exclusive();
    let mark = LedgerMark::now();
    let h = Handle::new(Box::new(Global)).unwrap();
    let message = panic_message(|| mark.assert_balanced());
    assert_in_order(
        &message,
        &[
            " (all types): live ",
            "  created ",
            " (+1)\n",
            "live handles now:\n",
            ": type testing.Global, kind unique",
        ],
    );
    h.drop_handle().unwrap();
    mark.assert_balanced();
}
