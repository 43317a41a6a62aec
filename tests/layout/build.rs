//! Generates the layout checks for the target being built.
//!
//! 1. bindgen turns include/websocketclient.h into Rust, with clang set to
//!    the same target as this build (`--target=$TARGET`), so sizes,
//!    alignments and offsets are the C compiler's for that target.
//! 2. syn reads the generated items back, and this script writes
//!    `$OUT_DIR/layout_checks.rs`: module `c` holds the bindings, module
//!    `checks` compares every item of the header with the library's item of
//!    the same name (`websocket::capi`, or `$LAYOUT_LIB_PATH`):
//!    - struct: size, alignment and the offset of every field are equal
//!      (const assertions); each field's type is exactly the header's type
//!      spelled with the library's names (a function returning `&field`
//!      under the header's type); the library struct has no field the header
//!      lacks and vice versa (an exhaustive struct pattern without `..`);
//!    - typedef (the callback types, written by hand in cbindgen.toml, and
//!      `ws_status`): the library's type is exactly the header's type, or a
//!      `#[repr(transparent)]` struct whose one field has exactly that type
//!      (found by reading the library's sources with syn); C names that
//!      cbindgen.toml's `[export.rename]` gives to Rust items are mapped
//!      back to the Rust names;
//!    - function (the API and the `ws_port_*` imports): the library's item
//!      coerces to `unsafe extern "C" fn(<header's parameters>) -> <return>`,
//!      which needs the exact signature.
//!    Any other kind of item in the header (union, enum, global) fails the
//!    build here, so a new kind of item cannot slip through unchecked.
//! The crate compiles only if all checks hold: `cargo check --target T` is
//! the test (tests/layout/run.sh runs it for each target).
//!
//! Environment: `LAYOUT_HEADER` (default ../../include/websocketclient.h),
//! `LAYOUT_LIB_PATH` (default `websocket::capi`), `LAYOUT_CBINDGEN` (default
//! ../../cbindgen.toml), `LAYOUT_LIB_SRC` (default ../../src),
//! `LAYOUT_SUMMARY` (a file that receives one line per checked item with the
//! C layout figures).
use std::collections::BTreeMap;
use std::env;
use std::fmt::Write as _;
use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let header = env::var_os("LAYOUT_HEADER")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.join("../../include/websocketclient.h"));
    let lib_path = env::var("LAYOUT_LIB_PATH").unwrap_or_else(|_| "websocket::capi".into());
    let target = env::var("TARGET").unwrap();
    for v in ["LAYOUT_HEADER", "LAYOUT_LIB_PATH", "LAYOUT_CBINDGEN", "LAYOUT_LIB_SRC", "LAYOUT_SUMMARY"] {
        println!("cargo:rerun-if-env-changed={v}");
    }
    println!("cargo:rerun-if-changed={}", header.display());
    println!("cargo:rerun-if-changed=build.rs");

    // stddef.h and stdint.h come with clang; the header also includes
    // <stdlib.h> (as the firmware's old header did), which a bare-metal
    // target takes from picolibc's headers (declarations only).
    // LAYOUT_SYSINCLUDE overrides the directory.
    println!("cargo:rerun-if-env-changed=LAYOUT_SYSINCLUDE");
    let mut clang_args = vec![format!("--target={target}"), "-ffreestanding".into(), "-std=c99".into()];
    let sysinclude = env::var("LAYOUT_SYSINCLUDE").ok().or_else(|| {
        target.starts_with("thumb").then(|| "/usr/lib/picolibc/arm-none-eabi/include".into())
    });
    if let Some(inc) = sysinclude {
        clang_args.extend(["-isystem".into(), inc]);
    }
    let bindings = bindgen::Builder::default()
        .header(header.to_str().expect("header path"))
        .clang_args(clang_args)
        .allowlist_file(".*websocketclient\\.h")
        .use_core()
        .ctypes_prefix("::core::ffi")
        .generate_comments(false)
        .derive_debug(false)
        .derive_copy(false)
        .derive_default(false)
        .layout_tests(true)
        .generate()
        .unwrap_or_else(|e| panic!("bindgen on {}: {e}", header.display()));
    let text = bindings.to_string();
    let file = syn::parse_file(&text).expect("bindgen output parses");

    let lib: syn::Path = syn::parse_str(&lib_path).expect("LAYOUT_LIB_PATH is a path");
    // C names that cbindgen renames (cbindgen.toml [export.rename]): C -> Rust.
    let cbindgen_toml = env::var_os("LAYOUT_CBINDGEN")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.join("../../cbindgen.toml"));
    println!("cargo:rerun-if-changed={}", cbindgen_toml.display());
    let renames = export_renames(&std::fs::read_to_string(&cbindgen_toml).expect("cbindgen.toml"));
    // The library's #[repr(transparent)] single-field structs: name -> field type.
    let lib_src = env::var_os("LAYOUT_LIB_SRC")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.join("../../src"));
    println!("cargo:rerun-if-changed={}", lib_src.display());
    let mut transparent = BTreeMap::new();
    transparent_structs(&lib_src, &mut transparent);
    // One check per line, so that a compiler error quotes just the failing one.
    let mut checks: Vec<TokenStream> = Vec::new();
    let mut summary = String::new();
    let clang_layout = clang_figures(&text);
    let (mut n_structs, mut n_fields, mut n_types, mut n_fns) = (0, 0, 0, 0);

    for item in &file.items {
        match item {
            syn::Item::Struct(s) => {
                let name = &s.ident;
                let sname = name.to_string();
                let fields: Vec<(&syn::Ident, &syn::Type)> = match &s.fields {
                    syn::Fields::Named(f) => f
                        .named
                        .iter()
                        .map(|f| (f.ident.as_ref().unwrap(), &f.ty))
                        .collect(),
                    _ => panic!("struct {sname}: unexpected field kind in the bindings"),
                };
                if fields.iter().any(|(f, _)| f.to_string().starts_with('_')) {
                    panic!("struct {sname}: bindgen made padding/bitfield/opaque members; check by hand");
                }
                let m_size = format!("{sname}: sizeof differs between the header and the Rust struct");
                let m_align = format!("{sname}: alignment differs between the header and the Rust struct");
                checks.push(quote! {
                    const _: () = assert!(size_of::<super::c::#name>() == size_of::<#name>(), #m_size);
                });
                checks.push(quote! {
                    const _: () = assert!(align_of::<super::c::#name>() == align_of::<#name>(), #m_align);
                });
                let names: Vec<_> = fields.iter().map(|(f, _)| *f).collect();
                let exhaustive = format_ident!("{}__same_fields", sname);
                // Fails to compile if either side has a field the other lacks.
                checks.push(quote! {
                    fn #exhaustive(s: #name) { let #name { #(#names: _),* } = s; }
                });
                for (f, ty) in &fields {
                    let m_off = format!("{sname}.{f}: offset differs between the header and the Rust struct");
                    let getter = format_ident!("{}__{}", sname, f.to_string());
                    checks.push(quote! {
                        const _: () = assert!(offset_of!(super::c::#name, #f) == offset_of!(#name, #f), #m_off);
                    });
                    // The library's field has exactly the header's type.
                    checks.push(quote! { fn #getter(s: &#name) -> &#ty { &s.#f } });
                    n_fields += 1;
                }
                n_structs += 1;
                let (size, align) = clang_layout.get(&sname).copied().unwrap_or_default();
                let _ = writeln!(
                    summary,
                    "{target}: struct {sname} size={size} align={align} fields={}",
                    fields.iter().map(|(f, _)| format!("{f}@{}", clang_offset(&text, &sname, &f.to_string()))).collect::<Vec<_>>().join(",")
                );
            }
            syn::Item::Type(t) => {
                let name = &t.ident;
                let ty = &t.ty;
                let f = format_ident!("typedef__{}", name.to_string());
                // The library's type is the header's type, or a
                // #[repr(transparent)] wrapper of exactly it (see below).
                checks.push(quote! { fn #f() { abi_same::<#name, #ty>() } });
                let rust_name = renames.get(&name.to_string()).cloned().unwrap_or(name.to_string());
                if let Some(inner) = transparent.get(&rust_name) {
                    let rn = format_ident!("{}", rust_name);
                    let inner = ffi_path(inner);
                    // Sound: a #[repr(transparent)] struct whose only field
                    // is `inner` has inner's ABI (src: LAYOUT_LIB_SRC).
                    checks.push(quote! { impl AbiSame<#inner> for #rn {} });
                }
                n_types += 1;
                let _ = writeln!(summary, "{target}: typedef {name}");
            }
            syn::Item::ForeignMod(m) => {
                for fi in &m.items {
                    let syn::ForeignItem::Fn(f) = fi else {
                        panic!("the header declares a non-function external item; extend build.rs");
                    };
                    let name = &f.sig.ident;
                    let args = f.sig.inputs.iter();
                    let ret = &f.sig.output;
                    checks.push(quote! {
                        const _: unsafe extern "C" fn(#(#args),*) #ret = #name;
                    });
                    n_fns += 1;
                    let _ = writeln!(summary, "{target}: fn {name}");
                }
            }
            // #define constants: the library generates them (cbindgen), and
            // header-check keeps the committed header equal to that output.
            syn::Item::Const(_) => {}
            other => panic!("unhandled item in the bindings (add a check): {}", quote!(#other)),
        }
    }
    if n_structs == 0 || n_fns == 0 {
        panic!("no struct or function found in {}: wrong header?", header.display());
    }
    let _ = writeln!(
        summary,
        "{target}: checked {n_structs} structs, {n_fields} fields, {n_types} typedefs, {n_fns} functions"
    );

    let mut out = String::new();
    out.push_str("/// Rust generated by bindgen from the C header for this target.\n");
    out.push_str("#[allow(non_camel_case_types, non_snake_case, non_upper_case_globals, dead_code, clippy::all)]\n");
    let _ = writeln!(out, "pub mod c {{\n{text}\n}}\n");
    out.push_str("/// The header's items against the library's (compile-time only).\n");
    out.push_str("#[allow(non_camel_case_types, non_snake_case, dead_code, unused_imports, clippy::all)]\n");
    let _ = writeln!(out, "mod checks {{\nuse {}::*;\nuse ::core::mem::{{align_of, offset_of, size_of}};", quote!(#lib));
    out.push_str("/// `A: AbiSame<B>`: A and B are the same type, or A is declared below as a\n");
    out.push_str("/// #[repr(transparent)] wrapper of B.\n");
    out.push_str("trait AbiSame<B: ?Sized> {}\nimpl<T: ?Sized> AbiSame<T> for T {}\n");
    out.push_str("fn abi_same<A: ?Sized + AbiSame<B>, B: ?Sized>() {}\n");
    // The header's names for library items that cbindgen renames.
    for (c, r) in &renames {
        if c != r && file.items.iter().any(|i| item_name(i).as_deref() == Some(c.as_str())) {
            let _ = writeln!(out, "type {c} = {r};");
        }
    }
    for c in &checks {
        let _ = writeln!(out, "{c}");
    }
    out.push_str("}\n");
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    std::fs::write(out_dir.join("layout_checks.rs"), out).unwrap();
    if let Some(p) = env::var_os("LAYOUT_SUMMARY") {
        std::fs::write(&p, summary).unwrap();
        // Written during this run, so newer than it: the script runs again
        // next time (about a second) and the summary is always fresh.
        println!("cargo:rerun-if-changed={}", PathBuf::from(p).display());
    }
}

/// Size and alignment per struct as clang computed them, read from bindgen's
/// own layout assertions (`["Size of X"][size_of::<X>() - N]`), for the summary.
fn clang_figures(text: &str) -> BTreeMap<String, (usize, usize)> {
    let mut m: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (key, idx) in [("\"Size of ", 0), ("\"Alignment of ", 1)] {
        let mut rest = text;
        while let Some(p) = rest.find(key) {
            rest = &rest[p + key.len()..];
            let name = rest[..rest.find('"').unwrap()].to_string();
            let n = number_before_usize(rest);
            let e = m.entry(name).or_default();
            if idx == 0 { e.0 = n } else { e.1 = n }
        }
    }
    m
}

/// Offset of `s.f` as clang computed it (bindgen's `"Offset of field: s::f"`).
fn clang_offset(text: &str, s: &str, f: &str) -> usize {
    let key = format!("\"Offset of field: {s}::{f}\"");
    text.find(&key).map(|p| number_before_usize(&text[p..])).unwrap_or(usize::MAX)
}

/// The first `- N usize` / `- Nusize` after the start of `s`.
fn number_before_usize(s: &str) -> usize {
    let end = s.find("usize").expect("usize literal");
    let digits: String = s[..end].trim_end().chars().rev().take_while(|c| c.is_ascii_digit()).collect();
    digits.chars().rev().collect::<String>().parse().expect("number")
}

/// The `[export.rename]` table of cbindgen.toml as C name -> Rust name
/// (`"Rust" = "C"` lines; enough TOML for that table).
fn export_renames(toml: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let mut inside = false;
    for line in toml.lines().map(str::trim) {
        if line.starts_with('[') {
            inside = line == "[export.rename]";
            continue;
        }
        if !inside || line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line.split_once('=').expect("key = value in [export.rename]");
        let unq = |x: &str| x.trim().trim_matches('"').to_string();
        m.insert(unq(v), unq(k));
    }
    m
}

/// Every struct under `dir` marked #[repr(transparent)] with exactly one
/// field: its name and the field's type.
fn transparent_structs(dir: &std::path::Path, out: &mut BTreeMap<String, syn::Type>) {
    for e in std::fs::read_dir(dir).expect("library sources") {
        let p = e.unwrap().path();
        if p.is_dir() {
            transparent_structs(&p, out);
            continue;
        }
        if p.extension().and_then(|x| x.to_str()) != Some("rs") {
            continue;
        }
        let Ok(f) = syn::parse_file(&std::fs::read_to_string(&p).unwrap()) else { continue };
        let mut items: Vec<&syn::Item> = f.items.iter().collect();
        while let Some(item) = items.pop() {
            match item {
                syn::Item::Mod(m) => items.extend(m.content.iter().flat_map(|(_, v)| v)),
                syn::Item::Struct(st) if st.fields.len() == 1 && is_transparent(&st.attrs) => {
                    let ty = st.fields.iter().next().unwrap().ty.clone();
                    out.insert(st.ident.to_string(), ty);
                }
                _ => {}
            }
        }
    }
}

fn is_transparent(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("repr") && a.parse_args::<syn::Ident>().is_ok_and(|i| i == "transparent")
    })
}

/// `c_int` and the other C type names as `::core::ffi::c_int`, so that the
/// field type of a library struct resolves the same way in the checks.
fn ffi_path(ty: &syn::Type) -> TokenStream {
    if let syn::Type::Path(p) = ty {
        if p.qself.is_none() && p.path.segments.len() == 1 {
            let id = &p.path.segments[0].ident;
            if id.to_string().starts_with("c_") {
                return quote!(::core::ffi::#id);
            }
        }
    }
    quote!(#ty)
}

fn item_name(item: &syn::Item) -> Option<String> {
    match item {
        syn::Item::Struct(s) => Some(s.ident.to_string()),
        syn::Item::Type(t) => Some(t.ident.to_string()),
        _ => None,
    }
}
