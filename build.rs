//! Build script: records the git commit, and compiles `coldbench-hello` as a static binary that
//! the library embeds, so synthetic images need nothing at run time (no cargo, no network), and
//! generates the CRI gRPC client from `proto/cri/runtime.proto`, the part of the CRI coldbench
//! calls, and the containerd events client from `proto/containerd/` (protox parses both in pure
//! Rust, so no `protoc` is needed).

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=src/bin/coldbench-hello.rs");
    // The commit changes when HEAD moves or when the branch it names does.
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/packed-refs");
    if let Ok(head) = std::fs::read_to_string(".git/HEAD") {
        if let Some(reference) = head.trim().strip_prefix("ref: ") {
            println!("cargo:rerun-if-changed=.git/{reference}");
        }
    }
    println!("cargo:rerun-if-env-changed=COLDBENCH_HELLO_BIN");
    println!("cargo:rerun-if-changed=proto/cri/runtime.proto");
    println!("cargo:rerun-if-changed=proto/containerd");
    compile_cri();
    compile_containerd_events();

    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    println!("cargo:rustc-env=COLDBENCH_GIT_COMMIT={commit}");

    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target = std::env::var("TARGET").expect("cargo sets TARGET");
    let hello = out_dir.join("coldbench-hello");

    // A prebuilt static binary may be supplied (cross builds, unusual hosts).
    if let Ok(given) = std::env::var("COLDBENCH_HELLO_BIN") {
        std::fs::copy(&given, &hello).expect("copy COLDBENCH_HELLO_BIN");
        return;
    }

    let built = if target.contains("linux") {
        let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
        let status = Command::new(rustc)
            .args([
                "--edition=2021",
                "--crate-type=bin",
                "--crate-name=coldbench_hello",
                "-C",
                "opt-level=s",
                "-C",
                "strip=symbols",
                "-C",
                "panic=abort",
                "-C",
                "target-feature=+crt-static",
                "--target",
                &target,
                "-o",
            ])
            .arg(&hello)
            .arg("src/bin/coldbench-hello.rs")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .status();
        matches!(status, Ok(s) if s.success())
    } else {
        false
    };
    if !built {
        // Embed an empty file: the harness then explains how to supply the binary.
        println!(
            "cargo:warning=could not build a static coldbench-hello for {target}; synthetic images need COLDBENCH_HELLO_BIN"
        );
        std::fs::write(&hello, b"").expect("write placeholder");
    }
}

/// Generates `runtime.v1.rs` (CRI messages and the client stubs) into `OUT_DIR`.
fn compile_cri() {
    let fds = protox::compile(["proto/cri/runtime.proto"], ["proto/cri"])
        .unwrap_or_else(|e| panic!("parsing proto/cri/runtime.proto: {e}"));
    tonic_prost_build::configure()
        .build_server(false)
        .build_transport(false)
        .compile_fds(fds)
        .unwrap_or_else(|e| panic!("generating the CRI client from proto/cri/runtime.proto: {e}"));
}

/// Generates containerd's events client (`containerd.services.events.v1.rs`) and its snapshot
/// event messages (`containerd.events.rs`) into `OUT_DIR`.
fn compile_containerd_events() {
    let files = [
        "proto/containerd/events.proto",
        "proto/containerd/snapshot.proto",
    ];
    let fds = protox::compile(files, ["proto/containerd"])
        .unwrap_or_else(|e| panic!("parsing proto/containerd: {e}"));
    tonic_prost_build::configure()
        .build_server(false)
        .build_transport(false)
        .compile_fds(fds)
        .unwrap_or_else(|e| panic!("generating the containerd events client: {e}"));
}
