//! Finds (or, in the source tree, builds) the libferry this crate links.
//!
//! A library that uses `ferry` never carries its own copy of libferry (one
//! table per process): the link directive below names the shared library,
//! which a `staticlib` does not bundle and a `cdylib` records as a
//! dependency. The final program links libferry itself.
//!
//! Where libferry is, in order:
//! 1. `FERRY_LIB_DIR`, a directory holding libferry.so (the CMake build and
//!    `ferry_add_crate` set it);
//! 2. in the source tree (`c/src` next to `rust/ferry`), as for a plain
//!    `cargo test`: compiled from `c/src` with the system C compiler;
//! 3. installed (`share/ferry/rust/ferry`): `pkg-config --variable=libdir ferry`.
//!
//! No crate from a registry.
use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.join("../..");
    let sources = root.join("c/src");
    let in_source_tree = sources.is_dir();
    println!("cargo:rerun-if-env-changed=FERRY_LIB_DIR");
    if in_source_tree {
        // Only paths that exist: cargo reruns a script on every build when
        // one it watches is missing.
        println!("cargo:rerun-if-changed={}", sources.display());
        println!(
            "cargo:rerun-if-changed={}",
            root.join("c/include").display()
        );
        println!("cargo:include={}", root.join("c/include").display());
    }

    let lib_dir = match env::var_os("FERRY_LIB_DIR") {
        Some(dir) => PathBuf::from(dir),
        None if in_source_tree => {
            build_libferry(&root, &PathBuf::from(env::var("OUT_DIR").unwrap()))
        }
        None => {
            println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
            installed_libdir()
        }
    };
    println!("cargo:rustc-link-search=native={}", lib_dir.display());
    println!("cargo:rustc-link-lib=dylib=ferry");
    // Only this crate's own test binaries need to find it at run time: the
    // integration tests and the library's unit tests, which
    // `rustc-link-arg-tests` does not reach. (The crate has no binaries,
    // examples or benches; link arguments never pass to dependents.)
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib_dir.display());
    println!("cargo:lib_dir={}", lib_dir.display());
}

/// The library directory of an installed libferry, from its ferry.pc.
fn installed_libdir() -> PathBuf {
    let found = Command::new("pkg-config")
        .args(["--variable=libdir", "ferry"])
        .output();
    match found {
        Ok(out) if out.status.success() && !out.stdout.is_empty() => {
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        }
        _ => panic!(
            "cannot find libferry: set FERRY_LIB_DIR to the directory holding \
             libferry.so, or make `pkg-config --variable=libdir ferry` find the \
             installed ferry.pc (PKG_CONFIG_PATH=<prefix>/lib/pkgconfig)"
        ),
    }
}

fn build_libferry(root: &Path, out: &Path) -> PathBuf {
    let mut sources: Vec<PathBuf> = std::fs::read_dir(root.join("c/src"))
        .expect("c/src next to rust/ferry")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    sources.sort();
    let cc = env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args([
            "-shared",
            "-fPIC",
            "-O2",
            "-g",
            "-std=c11",
            "-fvisibility=hidden",
        ])
        .args(["-D_POSIX_C_SOURCE=200809L", "-DFERRY_NO_SITE_MACROS"])
        .arg(format!("-I{}", root.join("c/include").display()))
        .arg(format!("-I{}", root.join("c/src").display()))
        .args(&sources)
        .args(["-o"])
        .arg(out.join("libferry.so"))
        .args(["-lpthread", "-lffi", "-ldl"])
        .status()
        .unwrap_or_else(|e| panic!("cannot run the C compiler `{cc}`: {e}"));
    assert!(status.success(), "building libferry from c/src failed");
    out.to_path_buf()
}
