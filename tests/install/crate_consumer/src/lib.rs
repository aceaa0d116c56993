//! A user's Rust type, used from C through ferry handles.
use ferry::{boundary, boundary_out, Error, Handle};

/// A counter that C bumps.
pub struct Counter {
    value: u64,
}

ferry::export!(Counter, "counter.Counter", Boxed);

/// A new counter starting at `start`, in *out.
#[no_mangle]
pub extern "C" fn counter_new(start: u64, out: Option<&mut Handle<Counter>>) -> ferry::Status {
    boundary_out(out, "out", || Handle::new(Box::new(Counter { value: start })))
}

/// Adds one and gives the new value.
#[no_mangle]
pub extern "C" fn counter_bump(h: Handle<Counter>, value: Option<&mut u64>) -> ferry::Status {
    boundary_out(value, "value", || {
        let mut counter = h.borrow_mut()?;
        counter.value += 1;
        Ok::<_, Error>(counter.value)
    })
}

/// Frees the counter.
#[no_mangle]
pub extern "C" fn counter_free(h: Handle<Counter>) -> ferry::Status {
    boundary(|| h.drop_handle())
}
