//! Test plugin "panicky": a function of every entry shape that panics, so
//! the host can check that no shape lets a panic unwind into C and that
//! owned arguments are still released; and a type whose destructor panics
//! when C drops it (the drop still succeeds; the panic is reported).
use std::sync::atomic::{AtomicU64, Ordering};

/// Drops of Bombs, armed or not: the host checks owned arguments went.
static DROPS: AtomicU64 = AtomicU64::new(0);

/// An object whose destructor panics when armed.
pub struct Bomb {
    armed: bool,
}
ferry::export!(Bomb, "panicky.Bomb", Boxed);

impl Drop for Bomb {
    fn drop(&mut self) {
        DROPS.fetch_add(1, Ordering::SeqCst);
        if self.armed {
            panic!("Bomb went off in its destructor");
        }
    }
}

ferry::plugin! {
    name: "panicky",
    version: "0.1.0",
    types: [Bomb],
    functions: {
        /// A bomb; `armed` makes its destructor panic.
        fn bomb(armed: bool) -> Box<Bomb> {
            Box::new(Bomb { armed })
        }

        /// How many bombs were dropped so far.
        fn drops() -> u64 {
            DROPS.load(Ordering::SeqCst)
        }

        fn no_args() {
            panic!("no_args panicked");
        }

        fn scalars(a: i64, b: f64) -> i64 {
            panic!("scalars panicked with {a} and {b}");
        }

        fn text(s: &str) -> u32 {
            panic!("text panicked on {s:?}");
        }

        fn string_result() -> &'static std::ffi::CStr {
            panic!("string_result panicked");
        }

        fn owned(b: Box<Bomb>) {
            let _keep = b;
            panic!("owned panicked");
        }

        fn shared(b: &Bomb) -> bool {
            panic!("shared panicked ({})", b.armed);
        }

        fn exclusive(b: &mut Bomb) {
            b.armed = false;
            panic!("exclusive panicked");
        }

        fn handle_result() -> Box<Bomb> {
            panic!("handle_result panicked");
        }

        fn fallible(fail: bool) -> ferry::Result<u32> {
            if fail {
                panic!("fallible panicked");
            }
            Ok(7)
        }
    }
}
