//! The bench binary finds libferry at run time where it was linked: the
//! `ferry` crate's own rpath does not reach its dependents, so take the
//! directory it reports (`cargo:lib_dir`, seen here as DEP_FERRY_LIB_DIR).
//! Also records the compiler's version for the report.
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_FERRY_LIB_DIR");
    if let Ok(dir) = std::env::var("DEP_FERRY_LIB_DIR") {
        println!("cargo:rustc-link-arg-bins=-Wl,-rpath,{dir}");
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "rustc (unknown version)".into());
    println!("cargo:rustc-env=FERRY_BENCH_RUSTC={version}");
}
