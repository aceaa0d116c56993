//! FERRY_TRACE=1 seen from Rust: an error about a handle carries the
//! backtraces of its creation and release. FERRY_TRACE is read when the
//! process starts, so the test runs this binary again with it set.

use ferry::testing::LedgerMark;
use ferry::{Handle, Status};
use std::process::Command;

struct Traced {
    _value: u8,
}
ferry::export!(Traced, "test.Traced", Boxed);

/// The child's half: runs only when the parent asks for it.
#[test]
fn child_reports_a_double_drop() {
    if std::env::var_os("FERRY_TRACE_TEST_CHILD").is_none() {
        return;
    }
    let h = Handle::new(Box::new(Traced { _value: 1 })).unwrap();
    h.drop_handle().unwrap();
    let err = h.drop_handle().unwrap_err();
    assert_eq!(err.status, Status::STALE);
    println!("<<{}>>", err.message);

    let mark = LedgerMark::of::<Traced>();
    let kept: Vec<_> = (0..2)
        .map(|_| Handle::new(Box::new(Traced { _value: 2 })).unwrap())
        .collect();
    println!("[[{}]]", mark.diff());
    for h in kept {
        h.drop_handle().unwrap();
    }
}

/// What the child printed with FERRY_TRACE set to `trace`: the message
/// and the ledger diff.
fn child_output(trace: &str) -> (String, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["child_reports_a_double_drop", "--exact", "--nocapture"])
        .env("FERRY_TRACE", trace)
        .env("FERRY_TRACE_TEST_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "child failed: {stdout}");
    let between = |open: &str, close: &str| {
        let start = stdout.find(open).expect(&stdout) + open.len();
        let end = stdout.rfind(close).expect(&stdout);
        stdout[start..end].to_owned()
    };
    (between("<<", ">>"), between("[[", "]]"))
}

#[test]
fn trace_adds_creation_and_release_frames() {
    let exe = std::env::current_exe().unwrap();
    let exe_name = exe.file_name().unwrap().to_string_lossy().into_owned();
    let (traced, _) = child_output("1");
    let (first, frames) = traced.split_once('\n').expect("no trace lines");
    assert!(first.starts_with("FERRY_E_STALE: "), "{traced}");
    assert!(
        first.contains("released at ") && first.contains("tests/trace.rs:"),
        "{traced}"
    );
    let created = frames.find("  created:\n    #0 ").expect(&traced);
    let released = frames.find("\n  released:\n    #0 ").expect(&traced);
    assert!(created < released, "{traced}");
    // libferry's own frames are skipped: the first are the ferry crate's
    // and this test's, all in this binary.
    assert!(frames[..released].contains(&exe_name), "{traced}");
    assert!(frames[released..].contains(&exe_name), "{traced}");

    let (plain, _) = child_output("0");
    assert!(!plain.contains('\n'), "{plain}");
    assert_eq!(
        plain,
        first.replace(&handle_bits(first), &handle_bits(&plain))
    );
}

#[test]
fn trace_keeps_each_live_handles_frames_with_it_in_a_ledger_diff() {
    let (_, traced) = child_output("1");
    let (_, plain) = child_output("0");
    for diff in [&traced, &plain] {
        assert!(diff.contains("live handles of test.Traced now:"), "{diff}");
        assert_eq!(diff.matches("\n  ferry: live handle ").count(), 2, "{diff}");
        assert!(!diff.contains("... and"), "{diff}");
    }
    // each handle's line is followed by its own frames
    assert_eq!(
        traced.matches("\n    created:\n      #0 ").count(),
        2,
        "{traced}"
    );
    assert!(!plain.contains("created:"), "{plain}");
}

/// The "handle 0x…" part, which differs between processes.
fn handle_bits(message: &str) -> String {
    let at = message.find("handle 0x").expect(message);
    message[at..at + 25].to_owned()
}
