//! Regenerates include/websocketclient.h with cbindgen from the files that
//! define the C interface (`SOURCES`).
//! The file is only rewritten when its content changes. With
//! `WS_HEADER_OUT=<path>` the header is written there instead (used by
//! `make header-check` to compare against the committed one).
use std::path::PathBuf;

/// What cbindgen reads: the status codes, the C types, constants and port
/// functions, then the entry points.
const SOURCES: [&str; 3] = ["src/status.rs", "src/capi/types.rs", "src/capi/entry.rs"];

fn main() {
    for src in SOURCES {
        println!("cargo:rerun-if-changed={src}");
    }
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=WS_HEADER_OUT");
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut builder = cbindgen::Builder::new().with_config(config);
    for src in SOURCES {
        builder = builder.with_src(dir.join(src));
    }
    let bindings = match builder.generate() {
        Ok(b) => b,
        Err(e) => {
            println!("cargo:warning=cbindgen failed, header not regenerated: {e}");
            return;
        }
    };
    let mut text = Vec::new();
    bindings.write(&mut text);
    let out = match std::env::var_os("WS_HEADER_OUT") {
        Some(p) => PathBuf::from(p),
        None => dir.join("include/websocketclient.h"),
    };
    if std::fs::read(&out).ok().as_deref() != Some(&text[..]) {
        std::fs::write(&out, &text).expect("write header");
    }
}
