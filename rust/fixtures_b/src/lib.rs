//! Fixture library B: a second Rust static library in the same C program.
//! It reads Counter handles that library A made, through the one table.
use ferry::{boundary, boundary_out, Error, Handle, Status};
use fixture_types::Counter;
use std::sync::atomic::Ordering;

#[no_mangle]
pub extern "C" fn fixture_b_counter_get(h: Handle<Counter>, value: Option<&mut i64>) -> Status {
    boundary_out(value, "value", || {
        Ok::<_, Error>(h.borrow()?.value.load(Ordering::SeqCst))
    })
}

/// Drops a handle A made (counted as a drop by Rust).
#[no_mangle]
pub extern "C" fn fixture_b_counter_drop(h: Handle<Counter>) -> Status {
    boundary(|| h.drop_handle())
}
