//! Plugins: a `cdylib` exporting one `ferry_plugin_descriptor` (the ABI of
//! `ferry/plugin.h`), declared with [`plugin!`](crate::plugin).
//!
//! The macro turns ordinary Rust functions into C entry points. Each
//! parameter type says how its argument crosses ([`Arg`]), each result type
//! how the result does ([`Return`], [`Output`]); both also spell their part
//! of the function's signature string, which is assembled at compile time.

use crate::boundary::boundary_as;
use crate::handle::{Handle, Ref, RefMut};
use crate::host::{HostRef, Owned};
use crate::status::{Error, Result, Status};
use crate::strings::CStrArg;
use crate::types::{kind, Exported, Ownership};
use std::ffi::{c_char, CStr};
use std::rc::Rc;
use std::sync::Arc;

/// A parameter type of a plugin function: what C passes (`Raw`), what the
/// shim holds for the duration of the call (`Held`), and its signature
/// kind (`SIG`: prefix, type name, suffix, e.g. `["own<", "img.Image", ">"]`).
///
/// The shim first [`hold`](Arg::hold)s every argument, and only then fails
/// on the first error: so an owned argument after a bad one is still
/// released, never leaked. Then each argument is [`pass`](Arg::pass)ed to
/// the function ([`Pass`]); borrows end when the call returns.
pub trait Arg: Sized {
    type Raw;
    type Held;
    const SIG: [&'static str; 3];
    fn hold(raw: Self::Raw, name: &str) -> Result<Self::Held>;
}

/// The second half of [`Arg`]: the value the function receives, borrowing
/// from what the shim holds. (A separate trait so that `Arg::Raw`, which
/// the shim's C signature names, does not depend on that borrow.)
pub trait Pass<'a>: Arg {
    fn pass(held: &'a mut Self::Held) -> Self;
}

/// What a plugin function returns: a value [`Output`], or a `Result` of one
/// whose error becomes the call's status and message.
pub trait Return {
    type Output: Output;
    fn into_output(self) -> Result<Self::Output>;
}

/// A result value: what the shim writes to `*out` (`Raw`), and its
/// signature kind, `None` for `()` (no result, no out-parameter).
pub trait Output {
    type Raw;
    const SIG: Option<[&'static str; 3]>;
    #[track_caller]
    fn into_raw(self) -> Result<Self::Raw>;
}

impl<O: Output> Return for O {
    type Output = O;
    fn into_output(self) -> Result<O> {
        Ok(self)
    }
}

impl<O: Output, E: Into<Error>> Return for std::result::Result<O, E> {
    type Output = O;
    fn into_output(self) -> Result<O> {
        self.map_err(Into::into)
    }
}

macro_rules! scalars {
    ($($t:ty => $sig:literal),*) => {$(
        impl Arg for $t {
            type Raw = $t;
            type Held = $t;
            const SIG: [&'static str; 3] = [$sig, "", ""];
            fn hold(raw: $t, _: &str) -> Result<$t> {
                Ok(raw)
            }
        }
        impl Pass<'_> for $t {
            fn pass(held: &mut $t) -> $t {
                *held
            }
        }
        impl Output for $t {
            type Raw = $t;
            const SIG: Option<[&'static str; 3]> = Some([$sig, "", ""]);
            #[track_caller]
            fn into_raw(self) -> Result<$t> {
                Ok(self)
            }
        }
    )*};
}
scalars!(
    i8 => "i8", i16 => "i16", i32 => "i32", i64 => "i64",
    u8 => "u8", u16 => "u16", u32 => "u32", u64 => "u64",
    f32 => "f32", f64 => "f64", bool => "bool"
);

impl<'a> Arg for &'a str {
    type Raw = CStrArg<'a>;
    type Held = &'a str;
    const SIG: [&'static str; 3] = ["str", "", ""];
    fn hold(raw: CStrArg<'a>, name: &str) -> Result<&'a str> {
        raw.to_str(name)
    }
}
impl<'a> Pass<'a> for &'a str {
    fn pass(held: &'a mut &'a str) -> &'a str {
        held
    }
}

const fn own<T: Exported>() -> [&'static str; 3] {
    ["own<", T::NAME, ">"]
}

/// Gives up a unit the shim could not turn into its Rust form (its kind or
/// host type was refused), so that a failed call leaks nothing.
fn release_on_error<T: Exported, V>(h: Handle<T>, got: Result<V>) -> Result<V> {
    got.inspect_err(|_| {
        let _ = h.drop_handle();
    })
}

impl<T: Exported<Owner = kind::Boxed>> Arg for Box<T> {
    type Raw = Handle<T>;
    type Held = Option<Box<T>>;
    const SIG: [&'static str; 3] = own::<T>();
    fn hold(raw: Handle<T>, _: &str) -> Result<Option<Box<T>>> {
        release_on_error(raw, raw.take()).map(Some)
    }
}
impl<T: Exported<Owner = kind::Boxed>> Pass<'_> for Box<T> {
    fn pass(held: &mut Option<Box<T>>) -> Box<T> {
        held.take().expect("each argument is passed once")
    }
}

impl<T: Exported<Owner = kind::Shared>> Arg for Arc<T> {
    type Raw = Handle<T>;
    type Held = Option<Arc<T>>;
    const SIG: [&'static str; 3] = own::<T>();
    fn hold(raw: Handle<T>, _: &str) -> Result<Option<Arc<T>>> {
        release_on_error(raw, raw.to_arc()).map(Some)
    }
}
impl<T: Exported<Owner = kind::Shared>> Pass<'_> for Arc<T> {
    fn pass(held: &mut Option<Arc<T>>) -> Arc<T> {
        held.take().expect("each argument is passed once")
    }
}

impl<T: Exported<Owner = kind::Local>> Arg for Rc<T> {
    type Raw = Handle<T>;
    type Held = Option<Rc<T>>;
    const SIG: [&'static str; 3] = own::<T>();
    fn hold(raw: Handle<T>, _: &str) -> Result<Option<Rc<T>>> {
        release_on_error(raw, raw.to_rc()).map(Some)
    }
}
impl<T: Exported<Owner = kind::Local>> Pass<'_> for Rc<T> {
    fn pass(held: &mut Option<Rc<T>>) -> Rc<T> {
        held.take().expect("each argument is passed once")
    }
}

impl<T: Exported<Owner = kind::Host>> Arg for Owned<T> {
    type Raw = Handle<T>;
    type Held = Option<Owned<T>>;
    const SIG: [&'static str; 3] = own::<T>();
    fn hold(raw: Handle<T>, _: &str) -> Result<Option<Owned<T>>> {
        release_on_error(raw, Owned::from_handle(raw)).map(Some)
    }
}
impl<T: Exported<Owner = kind::Host>> Pass<'_> for Owned<T> {
    fn pass(held: &mut Option<Owned<T>>) -> Owned<T> {
        held.take().expect("each argument is passed once")
    }
}

/// An owned raw handle until it is passed: dropped (its unit released) if
/// the call fails before the function receives it.
pub struct PendingHandle<T: Exported>(Option<Handle<T>>);

impl<T: Exported> Drop for PendingHandle<T> {
    fn drop(&mut self) {
        if let Some(h) = self.0.take() {
            let _ = h.drop_handle();
        }
    }
}

/// The raw owned handle: the function takes charge of ending it.
impl<T: Exported> Arg for Handle<T> {
    type Raw = Handle<T>;
    type Held = PendingHandle<T>;
    const SIG: [&'static str; 3] = own::<T>();
    fn hold(raw: Handle<T>, _: &str) -> Result<PendingHandle<T>> {
        Ok(PendingHandle(Some(raw)))
    }
}
impl<T: Exported> Pass<'_> for Handle<T> {
    fn pass(held: &mut PendingHandle<T>) -> Handle<T> {
        held.0.take().expect("each argument is passed once")
    }
}

impl<T: Exported> Arg for &T
where
    T::Owner: Ownership,
{
    type Raw = Handle<T>;
    type Held = Ref<'static, T>;
    const SIG: [&'static str; 3] = ["ref<", T::NAME, ">"];
    fn hold(raw: Handle<T>, _: &str) -> Result<Ref<'static, T>> {
        raw.borrow_detached()
    }
}
impl<'a, T: Exported> Pass<'a> for &'a T
where
    T::Owner: Ownership,
{
    fn pass(held: &'a mut Ref<'static, T>) -> &'a T {
        held
    }
}

impl<T: Exported> Arg for &mut T
where
    T::Owner: Ownership,
{
    type Raw = Handle<T>;
    type Held = RefMut<'static, T>;
    const SIG: [&'static str; 3] = ["mut<", T::NAME, ">"];
    fn hold(raw: Handle<T>, _: &str) -> Result<RefMut<'static, T>> {
        raw.borrow_mut_detached()
    }
}
impl<'a, T: Exported> Pass<'a> for &'a mut T
where
    T::Owner: Ownership,
{
    fn pass(held: &'a mut RefMut<'static, T>) -> &'a mut T {
        held
    }
}

impl<T: Exported<Owner = kind::Host>> Arg for HostRef<'_, T> {
    type Raw = Handle<T>;
    type Held = Option<HostRef<'static, T>>;
    const SIG: [&'static str; 3] = ["ref<", T::NAME, ">"];
    fn hold(raw: Handle<T>, _: &str) -> Result<Option<HostRef<'static, T>>> {
        HostRef::borrow(raw).map(Some)
    }
}
impl<'a, T: Exported<Owner = kind::Host>> Pass<'a> for HostRef<'a, T> {
    fn pass(held: &'a mut Option<HostRef<'static, T>>) -> HostRef<'a, T> {
        held.take().expect("each argument is passed once")
    }
}

impl Output for () {
    type Raw = ();
    const SIG: Option<[&'static str; 3]> = None;
    #[track_caller]
    fn into_raw(self) -> Result<()> {
        Ok(())
    }
}

/// A string that lives as long as the plugin's code (a literal).
impl Output for &'static CStr {
    type Raw = *const c_char;
    const SIG: Option<[&'static str; 3]> = Some(["str", "", ""]);
    #[track_caller]
    fn into_raw(self) -> Result<*const c_char> {
        Ok(self.as_ptr())
    }
}

impl<T: Exported> Output for Handle<T> {
    type Raw = Handle<T>;
    const SIG: Option<[&'static str; 3]> = Some(own::<T>());
    #[track_caller]
    fn into_raw(self) -> Result<Handle<T>> {
        Ok(self)
    }
}

impl<T: Exported<Owner = kind::Boxed>> Output for Box<T> {
    type Raw = Handle<T>;
    const SIG: Option<[&'static str; 3]> = Some(own::<T>());
    #[track_caller]
    fn into_raw(self) -> Result<Handle<T>> {
        Handle::new(self)
    }
}

impl<T: Exported<Owner = kind::Shared>> Output for Arc<T> {
    type Raw = Handle<T>;
    const SIG: Option<[&'static str; 3]> = Some(own::<T>());
    #[track_caller]
    fn into_raw(self) -> Result<Handle<T>> {
        Handle::from_arc(self)
    }
}

impl<T: Exported<Owner = kind::Local>> Output for Rc<T> {
    type Raw = Handle<T>;
    const SIG: Option<[&'static str; 3]> = Some(own::<T>());
    #[track_caller]
    fn into_raw(self) -> Result<Handle<T>> {
        Handle::from_rc(self)
    }
}

impl<T: Exported<Owner = kind::Host>> Output for Owned<T> {
    type Raw = Handle<T>;
    const SIG: Option<[&'static str; 3]> = Some(own::<T>());
    #[track_caller]
    fn into_raw(self) -> Result<Handle<T>> {
        Ok(self.into_handle())
    }
}

/// The C type of parameter `A`.
pub type RawArg<A> = <A as Arg>::Raw;
/// The C type of the out-parameter for result `R`.
pub type RawOut<R> = <<R as Return>::Output as Output>::Raw;

thread_local! {
    // A const initialiser and no destructor: nothing registered per thread,
    // so the plugin stays as safe to unload as its own code makes it.
    static IN_SHIM: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Keeps the panic hook quiet for panics the shims catch: the status and
/// the message (`ferry_last_error`) already report them to the host, which
/// owns stderr. `RUST_BACKTRACE` set restores the usual report. The hook is
/// this plugin's copy of std's, so the host's own panics are not affected.
fn quiet_caught_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let caught = IN_SHIM.with(|flag| flag.get());
            if !caught || std::env::var_os("RUST_BACKTRACE").is_some() {
                previous(info);
            }
        }));
    });
}

/// Runs a shim's body inside the panic boundary, naming the function
/// (`"plugin.function"`) in messages.
#[doc(hidden)]
pub fn run(op: &'static str, f: impl FnOnce() -> Result<()>) -> Status {
    quiet_caught_panics();
    let outer = IN_SHIM.with(|flag| flag.replace(true));
    let status = boundary_as(|| op.to_owned(), f);
    IN_SHIM.with(|flag| flag.set(outer));
    status
}

/// The entry shapes `ferry_status entry(A1, …, An[, R *out])`: C function
/// pointers returning a status, up to 16 arguments plus the out-pointer.
pub trait Entry: Copy {}

macro_rules! entries {
    ($($a:ident)*) => {
        impl<$($a),*> Entry for extern "C" fn($($a),*) -> Status {}
    };
}
entries!();
entries!(A1);
entries!(A1 A2);
entries!(A1 A2 A3);
entries!(A1 A2 A3 A4);
entries!(A1 A2 A3 A4 A5);
entries!(A1 A2 A3 A4 A5 A6);
entries!(A1 A2 A3 A4 A5 A6 A7);
entries!(A1 A2 A3 A4 A5 A6 A7 A8);
entries!(A1 A2 A3 A4 A5 A6 A7 A8 A9);
entries!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10);
entries!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11);
entries!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12);
entries!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13);
entries!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14);
entries!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14 A15);
entries!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14 A15 A16);
entries!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14 A15 A16 A17);

/// An entry as the descriptor stores it, `void (*)(void)`; the host casts
/// it back to the shape its signature describes.
pub const fn erase<F: Entry>(f: F) -> unsafe extern "C" fn() {
    union Erased<F: Copy> {
        entry: F,
        erased: unsafe extern "C" fn(),
    }
    // SAFETY: Entry is implemented only for function pointers, which all
    // have the size and validity of `unsafe extern "C" fn()`; calling the
    // result is unsafe and must use the original shape.
    unsafe { Erased { entry: f }.erased }
}

/// The length of a signature string, NUL included.
pub const fn sig_len(args: &[[&str; 3]], ret: Option<[&str; 3]>) -> usize {
    let mut n = "()".len() + 1;
    let mut i = 0;
    while i < args.len() {
        if i > 0 {
            n += ", ".len();
        }
        n += args[i][0].len() + args[i][1].len() + args[i][2].len();
        i += 1;
    }
    if let Some(r) = ret {
        n += " -> ".len() + r[0].len() + r[1].len() + r[2].len();
    }
    n
}

const fn put(buf: &mut [u8], at: usize, s: &str) -> usize {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        buf[at + i] = bytes[i];
        i += 1;
    }
    at + bytes.len()
}

/// The signature string, e.g. `"(own<host.Image>, f64) -> own<img.Image>"`,
/// NUL-terminated; `N` must be [`sig_len`] of the same parts.
pub const fn sig_bytes<const N: usize>(args: &[[&str; 3]], ret: Option<[&str; 3]>) -> [u8; N] {
    let mut buf = [0u8; N];
    let mut at = put(&mut buf, 0, "(");
    let mut i = 0;
    while i < args.len() {
        if i > 0 {
            at = put(&mut buf, at, ", ");
        }
        at = put(&mut buf, at, args[i][0]);
        at = put(&mut buf, at, args[i][1]);
        at = put(&mut buf, at, args[i][2]);
        i += 1;
    }
    at = put(&mut buf, at, ")");
    if let Some(r) = ret {
        at = put(&mut buf, at, " -> ");
        at = put(&mut buf, at, r[0]);
        at = put(&mut buf, at, r[1]);
        at = put(&mut buf, at, r[2]);
    }
    assert!(at + 1 == N, "signature length");
    buf
}

/// A doc string for the descriptor: the doc comment's lines joined, leading
/// blanks dropped; NULL when there is none. `with_nul` ends in NUL.
pub const fn doc(with_nul: &'static str) -> *const c_char {
    let mut bytes = with_nul.as_bytes();
    while let [b' ' | b'\t' | b'\n', rest @ ..] = bytes {
        bytes = rest;
    }
    if bytes.len() <= 1 {
        std::ptr::null()
    } else {
        bytes.as_ptr().cast()
    }
}

/// The flags word of a descriptor.
pub const fn flags(unloadable: bool) -> u32 {
    if unloadable {
        crate::sys::FERRY_PLUGIN_UNLOADABLE
    } else {
        0
    }
}

/// Declares a plugin: its name, version, the types whose code it carries
/// and its functions, and exports the `ferry_plugin_descriptor` a host
/// opens with `ferry_plugin_open`.
///
/// ```ignore
/// ferry::plugin! {
///     name: "imaging",
///     version: "0.1.0",
///     unloadable: false,             // optional; true lets the host unmap it
///     types: [Image],                // declared with ferry::export!
///     functions: {
///         /// Becomes the function's `doc`.
///         fn width(img: &Image) -> u32 { img.width }
///         fn blur(img: Box<Image>, radius: f64) -> ferry::Result<Box<Image>> { … }
///     }
/// }
/// ```
///
/// Each function stays an ordinary Rust function of the module and gets an
/// `extern "C"` shim (run inside the panic boundary) and a signature string,
/// both derived from its parameter and result types (see docs/rust.md).
/// Parameters are plain identifiers.
#[macro_export]
macro_rules! plugin {
    (
        name: $name:literal,
        version: $version:literal,
        $(unloadable: $unloadable:literal,)?
        types: [$($t:ty),* $(,)?],
        functions: {
            $(
                $(#[$($attr:tt)*])*
                $vis:vis fn $fname:ident($($arg:ident : $aty:ty),* $(,)?) $(-> $ret:ty)? $body:block
            )*
        } $(,)?
    ) => {
        $(
            $(#[$($attr)*])*
            // The ABI decides these: an own<T> of a Boxed type arrives as a
            // Box, and a signature may have up to 16 arguments.
            #[allow(clippy::boxed_local, clippy::too_many_arguments)]
            $vis fn $fname($($arg: $aty),*) $(-> $ret)? $body
        )*

        #[allow(non_upper_case_globals)]
        #[no_mangle]
        pub static ferry_plugin_descriptor: $crate::sys::ferry_plugin_desc = {
            static TYPES: [$crate::sys::ferry_type_desc; $crate::__plugin_count!($($t)*)] =
                [$(<$t as $crate::TypeDesc>::DESC),*];
            static FUNCTIONS: [
                $crate::sys::ferry_plugin_function;
                $crate::__plugin_count!($($fname)*)
            ] = [$(
                $crate::__plugin_function!(
                    $name, [$([$($attr)*])*] $fname($($arg: $aty),*) -> $crate::__plugin_ret!($($ret)?)
                )
            ),*];
            $crate::sys::ferry_plugin_desc {
                magic: $crate::sys::FERRY_PLUGIN_MAGIC,
                abi_version: $crate::sys::FERRY_PLUGIN_ABI_VERSION,
                flags: $crate::plugin::flags($crate::__plugin_unloadable!($($unloadable)?)),
                name: $crate::types_c_name(concat!($name, "\0")).as_ptr(),
                version: $crate::types_c_name(concat!($version, "\0")).as_ptr(),
                table_id: ::std::option::Option::Some($crate::sys::ferry_table_id),
                types: TYPES.as_ptr(),
                ntypes: TYPES.len() as u32,
                nfunctions: FUNCTIONS.len() as u32,
                functions: FUNCTIONS.as_ptr(),
            }
        };
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __plugin_function {
    ($plugin:literal, [$($attr:tt)*] $fname:ident($($arg:ident : $aty:ty),*) -> $ret:ty) => {{
        const OP: &str = concat!($plugin, ".", stringify!($fname));
        type Ret = <$ret as $crate::plugin::Return>::Output;
        const ARGS: &[[&str; 3]] = &[$(<$aty as $crate::plugin::Arg>::SIG),*];
        const RET: ::std::option::Option<[&str; 3]> = <Ret as $crate::plugin::Output>::SIG;
        static SIGNATURE: [u8; $crate::plugin::sig_len(ARGS, RET)] =
            $crate::plugin::sig_bytes(ARGS, RET);

        // The C shape has an out-parameter only when there is a result,
        // which only the result type's constant knows: both shapes are
        // compiled and the constant picks one.
        extern "C" fn with_out(
            $($arg: $crate::plugin::RawArg<$aty>,)*
            out: ::std::option::Option<&mut $crate::plugin::RawOut<$ret>>,
        ) -> $crate::Status {
            $crate::plugin::run(OP, || {
                $(let $arg = <$aty as $crate::plugin::Arg>::hold($arg, stringify!($arg));)*
                let out = $crate::out(out, "out");
                $(let mut $arg = $arg?;)*
                let out = out?;
                let result = $fname($(<$aty as $crate::plugin::Pass>::pass(&mut $arg)),*);
                let value = $crate::plugin::Return::into_output(result)?;
                *out = $crate::plugin::Output::into_raw(value)?;
                ::std::result::Result::Ok(())
            })
        }
        extern "C" fn without_out($($arg: $crate::plugin::RawArg<$aty>),*) -> $crate::Status {
            $crate::plugin::run(OP, || {
                $(let $arg = <$aty as $crate::plugin::Arg>::hold($arg, stringify!($arg));)*
                $(let mut $arg = $arg?;)*
                let result = $fname($(<$aty as $crate::plugin::Pass>::pass(&mut $arg)),*);
                $crate::plugin::Return::into_output(result).map(drop)
            })
        }
        let with_out: extern "C" fn($($crate::__plugin_underscore!($arg),)* _) -> $crate::Status =
            with_out;
        let without_out: extern "C" fn($($crate::__plugin_underscore!($arg)),*) -> $crate::Status =
            without_out;
        $crate::sys::ferry_plugin_function {
            name: $crate::types_c_name(concat!(stringify!($fname), "\0")).as_ptr(),
            signature: SIGNATURE.as_ptr().cast(),
            entry: ::std::option::Option::Some(if RET.is_some() {
                $crate::plugin::erase(with_out)
            } else {
                $crate::plugin::erase(without_out)
            }),
            doc: $crate::plugin::doc($crate::__plugin_doc!(@ [] $($attr)*)),
        }
    }};
}

/// The doc comment of a function (its `#[doc = "…"]` attributes, the
/// others skipped), concatenated and NUL-terminated.
#[doc(hidden)]
#[macro_export]
macro_rules! __plugin_doc {
    (@ [$($doc:literal)*]) => { concat!($($doc,)* "\0") };
    (@ [$($doc:literal)*] [doc = $line:literal] $($rest:tt)*) => {
        $crate::__plugin_doc!(@ [$($doc)* $line] $($rest)*)
    };
    (@ [$($doc:literal)*] [$($other:tt)*] $($rest:tt)*) => {
        $crate::__plugin_doc!(@ [$($doc)*] $($rest)*)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __plugin_count {
    () => { 0usize };
    ($head:tt $($tail:tt)*) => { 1usize + $crate::__plugin_count!($($tail)*) };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __plugin_ret {
    () => {
        ()
    };
    ($ret:ty) => {
        $ret
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __plugin_unloadable {
    () => {
        false
    };
    ($unloadable:literal) => {
        $unloadable
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __plugin_underscore {
    ($arg:ident) => {
        _
    };
}
