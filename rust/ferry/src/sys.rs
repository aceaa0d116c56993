//! The C API of libferry (`c/include/ferry.h`), declared for Rust.
//!
//! Everything here is `unsafe` to call; the rest of the crate wraps it.
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_void};

/// `ferry_status`: 0 is success; see [`crate::Status`].
pub type ferry_status = i32;
pub type ferry_side = i32;
pub const FERRY_BY_RUST: ferry_side = 1;

/// An untyped handle, as C sees it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ferry_handle {
    pub bits: u64,
}

/// Opaque registered type.
#[repr(C)]
pub struct ferry_type {
    _private: [u8; 0],
}

#[repr(C)]
pub struct ferry_type_desc {
    pub name: *const c_char,
    pub flags: u32,
    pub release: Option<unsafe extern "C" fn(*mut c_void)>,
    pub retain: Option<unsafe extern "C" fn(*mut c_void) -> *mut c_void>,
    pub downgrade: Option<unsafe extern "C" fn(*mut c_void) -> *mut c_void>,
    pub upgrade: Option<unsafe extern "C" fn(*mut c_void) -> *mut c_void>,
    pub release_weak: Option<unsafe extern "C" fn(*mut c_void)>,
    pub size: usize,
    pub align: usize,
}

// SAFETY: a descriptor is plain data (a name pointer into static memory and
// function pointers); sharing it only reads them. Plugins keep theirs in
// statics.
unsafe impl Sync for ferry_type_desc {}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ferry_counts {
    pub created: u64,
    pub cloned: u64,
    pub borrows: u64,
    pub handoffs: u64,
    pub taken: u64,
    pub dropped_by_c: u64,
    pub dropped_by_rust: u64,
    pub live: u64,
    pub peak_live: u64,
    pub revoked: u64,
}

pub const FERRY_KIND_UNIQUE: i32 = 1;
pub const FERRY_KIND_SHARED: i32 = 2;
pub const FERRY_KIND_LOCAL: i32 = 3;

pub const FERRY_SEND: u32 = 1;
pub const FERRY_SYNC: u32 = 2;
/// The host declares its objects plain data of the registered size and
/// align (any bit pattern valid; no pointers, locks or atomics): only then
/// may Rust read one through a `host_type!(…, layout = …)`.
pub const FERRY_PLAIN: u32 = 4;

pub const FERRY_PLUGIN_ABI_VERSION: u32 = 1;
pub const FERRY_PLUGIN_MAGIC: u64 = 0x474C_5059_5252_4546;
pub const FERRY_PLUGIN_UNLOADABLE: u32 = 1;

/// One function a plugin offers (`ferry/plugin.h`).
#[repr(C)]
pub struct ferry_plugin_function {
    pub name: *const c_char,
    pub signature: *const c_char,
    pub entry: Option<unsafe extern "C" fn()>,
    pub doc: *const c_char,
}

// SAFETY: plain data pointing at static strings and code, as above.
unsafe impl Sync for ferry_plugin_function {}

/// The descriptor a plugin exports as `ferry_plugin_descriptor`.
#[repr(C)]
pub struct ferry_plugin_desc {
    pub magic: u64,
    pub abi_version: u32,
    pub flags: u32,
    pub name: *const c_char,
    pub version: *const c_char,
    pub table_id: Option<unsafe extern "C" fn() -> usize>,
    pub types: *const ferry_type_desc,
    pub ntypes: u32,
    pub nfunctions: u32,
    pub functions: *const ferry_plugin_function,
}

// SAFETY: plain data pointing at static data and code, as above.
unsafe impl Sync for ferry_plugin_desc {}

extern "C" {
    pub fn ferry_type_register(
        desc: *const ferry_type_desc,
        out: *mut *const ferry_type,
    ) -> ferry_status;
    pub fn ferry_type_find(name: *const c_char) -> *const ferry_type;
    pub fn ferry_type_descriptor(t: *const ferry_type) -> *const ferry_type_desc;
    pub fn ferry_kind_of(h: ferry_handle, out: *mut i32) -> ferry_status;
    pub fn ferry_box_at(
        t: *const ferry_type,
        obj: *mut c_void,
        out: *mut ferry_handle,
        site: *const c_char,
    ) -> ferry_status;
    pub fn ferry_share_at(
        t: *const ferry_type,
        obj: *mut c_void,
        out: *mut ferry_handle,
        site: *const c_char,
    ) -> ferry_status;
    pub fn ferry_local_at(
        t: *const ferry_type,
        obj: *mut c_void,
        out: *mut ferry_handle,
        site: *const c_char,
    ) -> ferry_status;
    pub fn ferry_lend_at(
        t: *const ferry_type,
        obj: *const c_void,
        out: *mut ferry_handle,
        site: *const c_char,
    ) -> ferry_status;
    pub fn ferry_lend_mut_at(
        t: *const ferry_type,
        obj: *mut c_void,
        out: *mut ferry_handle,
        site: *const c_char,
    ) -> ferry_status;
    pub fn ferry_revoke_at(h: ferry_handle, by: ferry_side, site: *const c_char) -> ferry_status;
    pub fn ferry_clone_at(
        h: ferry_handle,
        out: *mut ferry_handle,
        site: *const c_char,
    ) -> ferry_status;
    pub fn ferry_downgrade_at(
        h: ferry_handle,
        out: *mut ferry_handle,
        site: *const c_char,
    ) -> ferry_status;
    pub fn ferry_upgrade_at(
        h: ferry_handle,
        out: *mut ferry_handle,
        site: *const c_char,
    ) -> ferry_status;
    pub fn ferry_drop_at(h: ferry_handle, by: ferry_side, site: *const c_char) -> ferry_status;
    pub fn ferry_take_at(
        h: ferry_handle,
        t: *const ferry_type,
        obj: *mut *mut c_void,
        site: *const c_char,
    ) -> ferry_status;
    pub fn ferry_borrow(
        h: ferry_handle,
        t: *const ferry_type,
        obj: *mut *const c_void,
    ) -> ferry_status;
    pub fn ferry_borrow_mut(
        h: ferry_handle,
        t: *const ferry_type,
        obj: *mut *mut c_void,
    ) -> ferry_status;
    pub fn ferry_unborrow(h: ferry_handle) -> ferry_status;
    pub fn ferry_check(h: ferry_handle, t: *const ferry_type) -> ferry_status;
    pub fn ferry_status_name(s: ferry_status) -> *const c_char;
    pub fn ferry_last_error() -> *const c_char;
    pub fn ferry_report_error(
        s: ferry_status,
        op: *const c_char,
        message: *const c_char,
    ) -> ferry_status;
    pub fn ferry_ledger(t: *const ferry_type, out: *mut ferry_counts) -> ferry_status;
    pub fn ferry_live() -> usize;
    pub fn ferry_table_id() -> usize;
}
