//! Ledger assertions for tests: prove that a piece of code ends every handle
//! it makes, with a readable diff when it does not.
//!
//! ```ignore
//! use ferry::testing::LedgerMark;
//!
//! #[test]
//! fn round_trip() {
//!     let mark = LedgerMark::of::<Point>();
//!     let h = ferry::Handle::new(Box::new(Point { x: 1.0, y: 2.0 })).unwrap();
//!     h.drop_handle().unwrap();
//!     mark.assert_balanced();
//! }
//!
//! // the same, as a block: checks every listed type when the block ends
//! let n = ferry::assert_balanced!(Point, Image => {
//!     let h = ferry::Handle::new(Box::new(Point { x: 1.0, y: 2.0 })).unwrap();
//!     h.drop_handle().unwrap();
//!     1
//! });
//! ```
//!
//! A failure panics with every counter that changed since the mark
//! (`created 0 -> 1 (+1)`) and the handles live now, one line each as
//! `ferry_report_leaks` writes them (type, kind, bits, creation site) — the
//! format of `ferry/check.h` on the C side.
//!
//! # Parallel tests
//!
//! The ledger is process-wide, and `cargo test` runs a test binary's tests
//! on parallel threads of one process. "Balanced" therefore means: the
//! handles of the mark's scope that *anyone* made since the mark have all
//! been ended. A mark of one type ([`LedgerMark::of`]) is only disturbed by
//! tests using the same type at the same time, so give each test its own
//! types or serialise those tests with a `Mutex`. A mark of all types
//! ([`LedgerMark::now`]) sees every test of the binary: use it only when
//! nothing else runs (`--test-threads=1`, a write lock the other tests take
//! for reading, or a test binary of its own). Reads are exact when no thread
//! is making or ending handles of the scope (docs/ledger.md): join a test's
//! workers before asserting.

use crate::{sys, Exported, TypeRef};
use std::ffi::{c_int, c_void};
use std::fmt;
use std::panic::Location;

/// The most live handles a diff lists; the rest are counted.
const MAX_LIVE_LINES: usize = 12;

/// The counters a diff compares, in `ferry_counts` order.
type Counter = fn(&sys::ferry_counts) -> u64;
const COUNTERS: [(&str, Counter); 10] = [
    ("created", |c| c.created),
    ("cloned", |c| c.cloned),
    ("borrows", |c| c.borrows),
    ("handoffs", |c| c.handoffs),
    ("taken", |c| c.taken),
    ("dropped_by_c", |c| c.dropped_by_c),
    ("dropped_by_rust", |c| c.dropped_by_rust),
    ("revoked", |c| c.revoked),
    ("live", |c| c.live),
    ("peak_live", |c| c.peak_live),
];

/// Which handles a mark counts.
#[derive(Clone, Copy, Debug)]
enum Scope {
    All,
    Type(TypeRef, &'static str),
}

impl Scope {
    fn counts(self) -> sys::ferry_counts {
        match self {
            Scope::All => crate::ledger(None),
            Scope::Type(t, _) => crate::ledger(Some(t)),
        }
    }
}

/// A snapshot of the ledger, of all types or of one, to compare against
/// later. Plain data: it holds nothing and needs no cleanup.
#[derive(Clone, Copy, Debug)]
pub struct LedgerMark {
    scope: Scope,
    at: sys::ferry_counts,
    site: &'static Location<'static>,
}

impl LedgerMark {
    /// Marks the counts of all types. See the module's notes on parallel
    /// tests before using it under `cargo test`.
    #[track_caller]
    pub fn now() -> LedgerMark {
        LedgerMark::at(Scope::All)
    }

    /// Marks the counts of `T`, registering it if this is its first use.
    ///
    /// # Panics
    /// If `T` cannot be registered (another type took its name).
    #[track_caller]
    pub fn of<T: Exported>() -> LedgerMark {
        match T::ferry_type() {
            Ok(t) => LedgerMark::at(Scope::Type(t, T::NAME)),
            Err(e) => panic!("ferry::testing: cannot mark the ledger of {}: {e}", T::NAME),
        }
    }

    #[track_caller]
    fn at(scope: Scope) -> LedgerMark {
        LedgerMark {
            scope,
            at: scope.counts(),
            site: Location::caller(),
        }
    }

    /// The counts when the mark was taken.
    pub fn counts(&self) -> sys::ferry_counts {
        self.at
    }

    /// The mark compared with the ledger now (one read).
    pub fn diff(&self) -> LedgerDiff {
        let now = self.scope.counts();
        let (shown, more) = match self.scope {
            Scope::All => live_handles(None),
            Scope::Type(_, name) => live_handles(Some(name)),
        };
        LedgerDiff {
            mark: *self,
            now,
            live_handles: shown,
            more_live_handles: more,
        }
    }

    /// Panics, with the diff, unless every handle of the mark's scope made
    /// since the mark (created + cloned) has been ended again (taken,
    /// dropped or revoked, by Rust or by C): unless `live` is what it was.
    #[track_caller]
    pub fn assert_balanced(&self) {
        let diff = self.diff();
        if !diff.is_balanced() {
            panic!("ferry ledger not balanced {diff}");
        }
    }

    /// Panics, with the diff, unless `live` changed by exactly `change`
    /// since the mark (a test that leaves `change` handles to a later step on purpose).
    #[track_caller]
    pub fn assert_live_change(&self, change: i64) {
        let diff = self.diff();
        if i128::from(change) != diff.live_change() {
            panic!(
                "ferry ledger: live changed by {:+}, expected {:+} {diff}",
                diff.live_change(),
                change
            );
        }
    }
}

/// A mark and the ledger read after it. Its `Display` is the diff:
/// the scope, every counter that changed, and the live handles.
#[derive(Clone, Debug)]
pub struct LedgerDiff {
    mark: LedgerMark,
    now: sys::ferry_counts,
    live_handles: Vec<String>,
    more_live_handles: usize,
}

impl LedgerDiff {
    /// The counts when the diff was taken.
    pub fn counts(&self) -> sys::ferry_counts {
        self.now
    }

    /// How much `live` changed since the mark.
    pub fn live_change(&self) -> i128 {
        i128::from(self.now.live) - i128::from(self.mark.at.live)
    }

    /// Whether every handle made since the mark was ended.
    pub fn is_balanced(&self) -> bool {
        self.live_change() == 0
    }
}

impl fmt::Display for LedgerDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (before, after) = (&self.mark.at, &self.now);
        let scope = match self.mark.scope {
            Scope::All => "all types".to_string(),
            Scope::Type(_, name) => format!("type {name}"),
        };
        writeln!(
            f,
            "since the mark at {}:{} ({scope}): live {} -> {}",
            self.mark.site.file(),
            self.mark.site.line(),
            before.live,
            after.live
        )?;
        for (name, read) in COUNTERS {
            let (was, is) = (read(before), read(after));
            if was != is {
                let change = i128::from(is) - i128::from(was);
                writeln!(f, "  {name} {was} -> {is} ({change:+})")?;
            }
        }
        match self.mark.scope {
            Scope::All => write!(f, "live handles now:")?,
            Scope::Type(_, name) => write!(f, "live handles of {name} now:")?,
        }
        for line in self.live_handles.iter().flat_map(|entry| entry.lines()) {
            write!(f, "\n  {line}")?;
        }
        if self.more_live_handles > 0 {
            write!(f, "\n  ... and {} more", self.more_live_handles)?;
        }
        Ok(())
    }
}

/// C's `FILE`, which `ferry_report_leaks` writes to.
#[repr(C)]
struct File {
    _private: [u8; 0],
}

extern "C" {
    // Declared here rather than in `sys`: only this module uses it, and it
    // needs the C library's stdio (below) to be read back.
    fn ferry_report_leaks(out: *mut File) -> usize;
    fn tmpfile() -> *mut File;
    fn rewind(f: *mut File);
    fn fread(buf: *mut c_void, size: usize, n: usize, f: *mut File) -> usize;
    fn fclose(f: *mut File) -> c_int;
}

/// The lines of libferry's leak report for the handles live now (of the
/// type named `name`, or all), at most `MAX_LIVE_LINES`, and how many more
/// there were. The report goes through a `tmpfile()` because
/// `ferry_report_leaks` writes to a `FILE`.
fn live_handles(name: Option<&str>) -> (Vec<String>, usize) {
    let mut report = Vec::new();
    // SAFETY: tmpfile returns an open stream or NULL; a non-NULL stream is
    // used only here and closed exactly once, and fread writes at most
    // `chunk.len()` bytes into `chunk`.
    unsafe {
        let f = tmpfile();
        if f.is_null() {
            return (
                vec!["(live handles not listed: tmpfile() failed)".to_string()],
                0,
            );
        }
        ferry_report_leaks(f);
        rewind(f);
        let mut chunk = [0u8; 4096];
        loop {
            let n = fread(chunk.as_mut_ptr().cast(), 1, chunk.len(), f);
            if n == 0 {
                break;
            }
            report.extend_from_slice(&chunk[..n]);
        }
        fclose(f);
    }
    // report lines read "ferry: live handle 0x…: type NAME, kind KIND, …";
    // with FERRY_TRACE=1 each is followed by its creation backtrace on
    // indented lines, which stay with it
    let mut entries: Vec<String> = Vec::new();
    for line in String::from_utf8_lossy(&report).lines() {
        match entries.last_mut() {
            Some(entry) if !line.starts_with("ferry: live handle ") => {
                entry.push('\n');
                entry.push_str(line);
            }
            _ => entries.push(line.to_string()),
        }
    }
    let needle = name.map(|n| format!(": type {n}, kind "));
    let matching: Vec<String> = entries
        .into_iter()
        .filter(|entry| match &needle {
            Some(n) => entry.lines().next().is_some_and(|l| l.contains(n.as_str())),
            None => true,
        })
        .collect();
    let more = matching.len().saturating_sub(MAX_LIVE_LINES);
    let shown = matching.into_iter().take(MAX_LIVE_LINES).collect();
    (shown, more)
}

/// Runs a block and then asserts that the ledger of each listed type is
/// balanced ([`LedgerMark::assert_balanced`]); evaluates to the block's
/// value. The types must be exported (`ferry::export!`, `host_type!`).
///
/// ```ignore
/// let total = ferry::assert_balanced!(Point, Image => {
///     let h = ferry::Handle::new(Box::new(Point::default()))?;
///     h.drop_handle()?;
///     42
/// });
/// ```
#[macro_export]
macro_rules! assert_balanced {
    ($($t:ty),+ => $body:expr) => {{
        let marks = [$($crate::testing::LedgerMark::of::<$t>()),+];
        let value = $body;
        for mark in &marks {
            mark.assert_balanced();
        }
        value
    }};
}
