#!/usr/bin/env python3
"""Checks that the retargeted LX106 archive meets GCC's call0 ABI at the C
boundary declared in include/websocketclient.h (docs/xtensa.md says why
these checks are the ones that matter).

usage: abi_check.py <work dir of tools/xtensa/build.sh> <header> <allowed-undefined.txt>

1. Prototypes: every function the header declares (ws_* exports, extern
   ws_port_* imports) has, in the retargeted IR (xtensa.ll), exactly the
   parameter and return types its C prototype maps to under ILP32: pointer ->
   ptr, int/uint32_t/size_t -> i32, uint16_t -> i16 zeroext, ... ; no i64,
   no aggregate, no byval/sret/inreg; no sub-word return; at most six
   arguments (all in a2..a7, nothing on the stack). The IR's set of
   exported ws_* equals the header's, and every imported ws_port_* is one the
   header declares.
2. Callbacks: every indirect call in the IR has the signature of one of the
   header's callback typedefs, and each typedef is called somewhere.
3. C library imports (malloc, memcmp, ...) match their C prototypes.
4. Struct layout: sizeof/alignof/offsetof of every header struct and field
   are the same under xtensa-lx106-elf-gcc and riscv32 GCC (ilp32), i.e. the
   layout rustc computed for the proxy target is the one LX106 C code uses.
5. Sub-word arguments: GCC for the LX106 zero-extends a uint16_t argument in
   the caller, and llc-22 for xtensa does the same for an i16 zeroext one
   (the convention both sides of the boundary rely on).
6. The archive: ELF machine 94, the same .xtensa.info ABI tag as GCC's
   objects, the header's ws_* defined as global code, the undefined symbols
   within the allowed list.
7. Source: no cfg on target properties that differ between the proxy and
   the LX106 (only target_pointer_width/target_endian, which agree).
"""
import os
import re
import subprocess
import sys

work, header, allowed_file = sys.argv[1:4]
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
XP = os.environ.get("XTENSA_PREFIX", "xtensa-lx106-elf-")
RV = os.environ.get("RISCV_GCC", "riscv64-unknown-elf-gcc")
LLC = os.environ.get("LLC", "llc-22")
errors = []
notes = []


def err(msg):
    errors.append(msg)


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        err(f"{' '.join(cmd)} failed: {r.stderr.strip()[:400]}")
    return r.stdout


# ---------------------------------------------------------------- C side
def strip_c_comments(s):
    s = re.sub(r"/\*.*?\*/", " ", s, flags=re.S)
    return re.sub(r"//[^\n]*", " ", s)


htext = strip_c_comments(open(header).read())
htext = "\n".join(l for l in htext.splitlines() if not l.lstrip().startswith("#"))
htext = htext.replace('extern "C" {', ";").replace("extern \"C\"", ";")
flat = re.sub(r"\s+", " ", htext)

# C type -> IR type under ILP32 (both the proxy and the LX106).
SCALAR = {
    "int": "i32", "signed int": "i32", "unsigned": "i32", "unsigned int": "i32",
    "int32_t": "i32", "uint32_t": "i32", "size_t": "i32", "long": "i32",
    "unsigned long": "i32", "intptr_t": "i32", "uintptr_t": "i32",
    "uint16_t": "i16 zeroext", "unsigned short": "i16 zeroext",
    "int16_t": "i16 signext", "short": "i16 signext",
    "uint8_t": "i8 zeroext", "unsigned char": "i8 zeroext", "bool": "i8 zeroext",
    "int8_t": "i8 signext", "signed char": "i8 signext",
    "void": "void",
}


# The header's own scalar typedefs (e.g. `typedef int ws_status;`).
TYPEDEFS = {}
for m in re.finditer(r"(?:^|(?<=[;{}]))\s*typedef ([\w ]+?) (\w+);", flat):
    base = re.sub(r"\b(const|volatile)\b", " ", m.group(1))
    base = re.sub(r"\s+", " ", base).strip()
    if base in SCALAR and base != "void":
        TYPEDEFS[m.group(2)] = base


def c_to_ir(ctype, where):
    t = re.sub(r"\b(const|volatile|extern|struct|enum)\b", " ", ctype)
    t = re.sub(r"\s+", " ", t).strip()
    if "*" in t:
        return "ptr"
    t = TYPEDEFS.get(t, t)
    if t in SCALAR:
        return SCALAR[t]
    # A typedef of a function pointer is a pointer.
    if re.fullmatch(r"ws_on\w+Callback", t):
        return "ptr"
    err(f"{where}: C type '{ctype.strip()}' has no checked mapping (64-bit, struct by value, "
        f"float or plain char do not belong at this boundary)")
    return "?" + t


def split_params(s):
    s = s.strip()
    if s in ("", "void"):
        return []
    return [p.strip() for p in s.split(",")]


def param_type(p):
    # Drop the parameter name (the last identifier unless the type ends in '*').
    m = re.fullmatch(r"(.*?[\s*])(\w+)", p)
    return m.group(1) if m and m.group(1).strip() else p


c_funcs = {}  # name -> (ret ir, [param ir], imported?)
for m in re.finditer(r"(?:^|(?<=[;{}]))\s*(extern )?((?:const )?[\w ]+?[\s*]+)(ws_\w+)\(([^()]*)\);", flat):
    ext, ret, name, params = m.groups()
    if name in c_funcs:
        continue
    c_funcs[name] = (c_to_ir(ret, name), [c_to_ir(param_type(p), f"{name}({p})")
                                          for p in split_params(params)], bool(ext))
c_callbacks = {}
for m in re.finditer(r"(?:^|(?<=[;{}]))\s*typedef ([\w ]+?[\s*]*)\(\*(\w+)\)\(([^()]*)\);", flat):
    ret, name, params = m.groups()
    c_callbacks[name] = (c_to_ir(ret, name), [c_to_ir(param_type(p), f"{name}({p})")
                                              for p in split_params(params)])
LIBC = {  # the C prototypes of what the library imports from the C library
    "malloc": "void *malloc(size_t n)", "realloc": "void *realloc(void *p, size_t n)",
    "free": "void free(void *p)", "memcmp": "int memcmp(const void *a, const void *b, size_t n)",
    "strlen": "size_t strlen(const char *s)",
    "memcpy": "void *memcpy(void *d, const void *s, size_t n)",
    "memmove": "void *memmove(void *d, const void *s, size_t n)",
    "memset": "void *memset(void *d, int c, size_t n)",
}
c_libc = {}
for name, proto in LIBC.items():
    m = re.fullmatch(r"(.*?[\s*])(\w+)\((.*)\)", proto)
    c_libc[name] = (c_to_ir(m.group(1), name), [c_to_ir(param_type(p), name)
                                                 for p in split_params(m.group(3))])

if not c_funcs or not any(v[2] for v in c_funcs.values()) or len(c_callbacks) < 3:
    err(f"header parse found too little: {len(c_funcs)} functions, {len(c_callbacks)} callbacks")

# ---------------------------------------------------------------- IR side
ll = open(os.path.join(work, "xtensa.ll")).read()
if not re.search(r'^target triple = "xtensa"$', ll, re.M):
    err("xtensa.ll is not an xtensa module")

BAD_ATTRS = ("byval", "sret", "inreg", "byref", "preallocated", "inalloca", "swiftself",
             "swifterror", "nest")


def split_top(s, sep=","):
    """Split at top-level separators (outside (), [], {}, <>, quotes)."""
    out, depth, cur, q = [], 0, "", False
    for ch in s:
        if ch == '"':
            q = not q
        if not q:
            if ch in "([{<":
                depth += 1
            elif ch in ")]}>":
                depth -= 1
            elif ch == sep and depth == 0:
                out.append(cur)
                cur = ""
                continue
        cur += ch
    if cur.strip():
        out.append(cur)
    return [x.strip() for x in out]


def ir_value_type(tokens_text, where, with_name):
    """'ptr noundef %ws' -> 'ptr'; 'i16 noundef zeroext %x' -> 'i16 zeroext'."""
    t = re.sub(r"\b\w+\([^()]*\)", " ", tokens_text)  # align(4), range(i32 0, 5), captures(..)
    t = re.sub(r'"[^"]*"(="[^"]*")?', " ", t)
    toks = t.split()
    if with_name and toks and (toks[-1].startswith("%") or toks[-1].startswith("@")):
        toks = toks[:-1]
    if not toks:
        err(f"{where}: cannot parse '{tokens_text}'")
        return "?"
    # A parameter is "<type> <attributes> %name"; a return is "<attributes> <type>".
    ty = toks[0] if with_name else toks[-1]
    if re.search(r"[{}\[\]<>]", " ".join(toks)) or ty.startswith("%"):
        err(f"{where}: aggregate/vector type at the boundary: '{tokens_text}'")
        return "?agg"
    for a in BAD_ATTRS:  # on the raw text: sret(<ty>), byval(<ty>) carry a type
        if re.search(rf"\b{a}\b", re.sub(r'"[^"]*"', " ", tokens_text)):
            err(f"{where}: attribute {a}: '{tokens_text}'")
    ext = [a for a in ("zeroext", "signext") if a in toks]
    if ty in ("i8", "i16", "i1"):
        if len(ext) != 1:
            err(f"{where}: sub-word {ty} without exactly one of zeroext/signext: '{tokens_text}'")
            return ty + "?"
        return f"{ty} {ext[0]}"
    if ext:
        err(f"{where}: {ext[0]} on {ty}")
    if ty not in ("ptr", "i32", "void"):
        err(f"{where}: type {ty} at the boundary ('{tokens_text}'; only ptr, i32, extended i8/i16)")
    return ty


def ir_signature(line, name):
    """Return (linkage words, ret, [params]) of a define/declare line."""
    m = re.match(r"(define|declare)\s+(.*?)@" + re.escape(name) + r"\((.*)$", line)
    head, rest = m.group(2), m.group(3)
    depth, i = 1, 0
    while depth and i < len(rest):
        depth += {"(": 1, ")": -1}.get(rest[i], 0)
        i += 1
    params = rest[:i - 1]
    ret_text = re.sub(r"\b(dso_local|dso_preemptable|internal|private|external|"
                      r"unnamed_addr|local_unnamed_addr|hidden|protected|default|weak|"
                      r"linkonce_odr|weak_odr|noalias|noundef|nonnull|fastcc|ccc)\b", " ", head)
    return head, ir_value_type(ret_text, f"{name} return", False), \
        [ir_value_type(p, f"{name} param {k}", True) for k, p in enumerate(split_top(params))]


ir_defs, ir_decls = {}, {}
for line in ll.splitlines():
    m = re.match(r"(define|declare)\s.*?@([\w.$]+)\(", line)
    if not m:
        continue
    name = m.group(2)
    if name.startswith("llvm."):
        continue
    if m.group(1) == "define":
        if re.match(r"define\s+(internal|private)\b", line):
            continue
        ir_defs[name] = ir_signature(line, name)
    else:
        ir_decls[name] = ir_signature(line, name)


def same(kind, name, c, ir):
    cret, cparams = c[0], c[1]
    _, iret, iparams = ir
    if len(cparams) > 6:
        err(f"{kind} {name}: {len(cparams)} parameters: beyond a2..a7, the stack layout of "
            f"call0 arguments is not covered by these checks")
    if (cret, cparams) != (iret, iparams):
        err(f"{kind} {name}: C {cret}({', '.join(cparams)}) but IR {iret}({', '.join(iparams)})")
        return False
    return True


exports = {n for n, v in c_funcs.items() if not v[2]}
imports = {n for n, v in c_funcs.items() if v[2]}
ir_exports = {n for n in ir_defs if n.startswith("ws_")}
if exports != ir_exports:
    err(f"exported ws_*: header {sorted(exports - ir_exports)} missing from the IR, "
        f"IR {sorted(ir_exports - exports)} not in the header")
other_defs = sorted(n for n in ir_defs if not n.startswith("ws_"))
if other_defs:
    err(f"the IR exports non-API symbols: {other_defs[:10]}")
checked = 0
for n in sorted(exports & ir_exports):
    checked += same("export", n, c_funcs[n], ir_defs[n])
for n, sig in sorted(ir_decls.items()):
    if n in imports:
        checked += same("import", n, c_funcs[n], sig)
    elif n in c_libc:
        checked += same("libc", n, c_libc[n], sig)
    else:
        err(f"the IR imports {n}, which neither the header nor the C library list declares")
unused_imports = sorted(imports - set(ir_decls))
if unused_imports:
    notes.append(f"header imports the library does not call: {unused_imports}")

# Indirect calls: call <attrs> <ret> %callee(<args>)
ind_sigs = {}
for no, line in enumerate(ll.splitlines(), 1):
    m = re.search(r"\b(?:tail |musttail |notail )?call\s+(.*?)\s(%[\w.]+)\((.*)$", line)
    if not m:
        continue
    head, callee, rest = m.groups()
    depth, i = 1, 0
    while depth and i < len(rest):
        depth += {"(": 1, ")": -1}.get(rest[i], 0)
        i += 1
    ret = ir_value_type(re.sub(r"\b(noundef|fastcc|ccc|nonnull|noalias)\b", " ", head),
                        f"indirect call line {no} return", False)
    params = [ir_value_type(p, f"indirect call line {no} arg {k}", True)
              for k, p in enumerate(split_top(rest[:i - 1]))]
    if re.search(r"\bfastcc\b|\bcc\s*\d", head):
        err(f"indirect call line {no} uses a non-C calling convention")
    if len(params) > 6:
        err(f"indirect call line {no}: {len(params)} arguments (beyond a2..a7)")
    ind_sigs.setdefault((ret, tuple(params)), []).append(no)
cb_by_sig = {}
for n, (r, p) in c_callbacks.items():
    cb_by_sig.setdefault((r, tuple(p)), []).append(n)
called = set()
for sig, lines in sorted(ind_sigs.items()):
    if sig in cb_by_sig:
        called.update(cb_by_sig[sig])
    else:
        err(f"indirect call(s) at lines {lines[:5]} with signature {sig[0]}({', '.join(sig[1])}) "
            f"match no callback typedef of the header")
for n in sorted(set(c_callbacks) - called):
    err(f"callback typedef {n} {c_callbacks[n]}: no indirect call with its signature in the IR")

# ---------------------------------------------------------------- struct layout
structs = {}
for m in re.finditer(r"typedef struct (\w+) \{(.*?)\} (\w+);", flat):
    fields = []
    for decl in m.group(2).split(";"):
        decl = decl.strip()
        if decl:
            f = re.search(r"(\w+)\s*(\[[^\]]*\])?$", decl)
            fields.append(f.group(1))
    structs[m.group(3)] = fields
if not structs:
    err("no struct found in the header")
probe = os.path.join(work, "abi_layout.c")
with open(probe, "w") as f:
    f.write(f'#include <stddef.h>\n#include "{os.path.abspath(header)}"\n')
    f.write('__attribute__((used, section(".layout"))) const unsigned int layout[] = {\n')
    order = []
    for s, fields in structs.items():
        f.write(f"  sizeof({s}), _Alignof({s}),\n")
        order += [f"sizeof({s})", f"_Alignof({s})"]
        for fl in fields:
            f.write(f"  offsetof({s}, {fl}),\n")
            order.append(f"offsetof({s}, {fl})")
    f.write("};\n")


def layout(cc, flags, objcopy, tag):
    obj = os.path.join(work, f"abi_layout_{tag}.o")
    binf = os.path.join(work, f"abi_layout_{tag}.bin")
    run([cc, *flags, "-std=c11", "-ffreestanding", "-Wall", "-Werror", "-c", probe, "-o", obj])
    run([objcopy, "-O", "binary", "--only-section=.layout", obj, binf])
    data = open(binf, "rb").read() if os.path.exists(binf) else b""
    return [int.from_bytes(data[i:i + 4], "little") for i in range(0, len(data), 4)]


lx = layout(XP + "gcc", [], XP + "objcopy", "lx106")
rv = layout(RV, ["--specs=picolibc.specs", "-march=rv32imc", "-mabi=ilp32"], RV.replace("gcc", "objcopy"), "rv32")
if len(lx) != len(order) or len(rv) != len(order):
    err(f"layout probe gave {len(lx)}/{len(rv)} values for {len(order)} items")
else:
    for what, a, b in zip(order, lx, rv):
        if a != b:
            err(f"layout: {what} is {a} on the LX106 but {b} on riscv32 (the proxy)")

# ---------------------------------------------------------------- sub-word extension
# GCC (the firmware's C) calling a library function with a uint16_t argument:
# the caller must zero-extend it, as the library (llc, i16 zeroext) assumes.
cext = os.path.join(work, "abi_ext.c")
with open(cext, "w") as f:
    f.write("extern void take16(int a, int b, int c, unsigned short len);\n"
            "void give16(int a, int b, int c, unsigned int x) { take16(a, b, c, (unsigned short)(x + 1)); }\n")
asm = run([XP + "gcc", "-O2", "-mlongcalls", "-S", cext, "-o", "-"])
if not re.search(r"extui\s+a5,\s*a\d+,\s*0,\s*16", asm):
    err("xtensa-lx106-elf-gcc does not zero-extend a uint16_t argument in the caller "
        f"(no 'extui a5, ..., 0, 16' before the call):\n{asm}")
# The ABI tag GNU as records (.xtensa.info "ABI=..."): ours must equal what
# the LX106's GCC writes into its objects (call0).
gobj = os.path.join(work, "abi_ext.o")
run([XP + "gcc", "-O2", "-mlongcalls", "-c", cext, "-o", gobj])


def xtensa_info(path):
    txt = run([XP + "readelf", "-p", ".xtensa.info", path])
    return sorted(re.findall(r"(\w+=\w+)", txt))


gcc_info, our_info = xtensa_info(gobj), xtensa_info(os.path.join(work, "websocket.o"))
if not gcc_info or gcc_info != our_info:
    err(f".xtensa.info of websocket.o {our_info} differs from GCC's {gcc_info}")
# llc-22 calling a C function (the port) with an i16 zeroext argument.
llext = os.path.join(work, "abi_ext.ll")
with open(llext, "w") as f:
    f.write('target triple = "xtensa"\n'
            "declare void @take16(i32, i32, i32, i16 zeroext)\n"
            "define void @give16(i32 %a, i32 %b, i32 %c, i32 %x) {\n"
            "  %y = add i32 %x, 1\n  %t = trunc i32 %y to i16\n"
            "  call void @take16(i32 %a, i32 %b, i32 %c, i16 zeroext %t)\n  ret void\n}\n")
asm = run([LLC, "-mtriple=xtensa", "-mcpu=esp8266", "-O2", llext, "-o", "-"])
if not (re.search(r"extui\s+a5,\s*a\d+,\s*0,\s*16", asm) or (
        re.search(r"\band\s+a5,\s*a\d+,\s*a\d+", asm)
        and re.search(r"\.literal\s+\.LCPI\d+_\d+,\s*65535\b", asm))):
    err(f"llc-22 does not zero-extend an i16 zeroext argument in the caller:\n{asm}")

# ---------------------------------------------------------------- the archive
obj = os.path.join(work, "websocket.o")
with open(obj, "rb") as f:
    hdr = f.read(20)
if hdr[:4] != b"\x7fELF" or hdr[4] != 1 or hdr[5] != 1 or int.from_bytes(hdr[18:20], "little") != 94:
    err("websocket.o is not a 32-bit little-endian ELF for machine 94 (Xtensa)")
nm = run([XP + "nm", os.path.join(work, "libwebsocket.a")])
defined = {l.split()[2] for l in nm.splitlines() if len(l.split()) == 3 and l.split()[1] == "T"}
undefined = sorted({l.split()[1] for l in nm.splitlines() if len(l.split()) == 2 and l.split()[0] == "U"})
for n in sorted(exports - defined):
    err(f"{n} is not a global code symbol of the archive")
allowed = {l.strip() for l in open(allowed_file) if l.strip() and not l.startswith("#")}
extra = [u for u in undefined if u not in allowed]
if extra:
    err(f"undefined symbols outside {allowed_file}: {extra}")
for u in undefined:
    if u.startswith("ws_") and u not in imports:
        err(f"undefined {u} is not a port function of the header")

# ---------------------------------------------------------------- source cfgs
OK_CFG = {"test", "feature", "target_pointer_width", "target_endian", "debug_assertions",
          "not", "any", "all", "doc"}
rs_files = sorted(os.path.relpath(os.path.join(d, f), os.path.join(root, "src"))
                  for d, _, fs in os.walk(os.path.join(root, "src")) for f in fs if f.endswith(".rs"))
for fn in rs_files:
    for no, line in enumerate(open(os.path.join(root, "src", fn)), 1):
        for m in re.finditer(r"cfg!?\s*\((.*)", line):
            for ident in re.findall(r"\b([a-z_]+)\b\s*(?=[=(,)]|$)", m.group(1)):
                if ident not in OK_CFG:
                    err(f"src/{fn}:{no}: cfg on '{ident}' would be decided for the proxy target "
                        f"(riscv32), not the LX106: review it for docs/xtensa.md")
        for m in re.finditer(r'target_pointer_width\s*=\s*"(\d+)"', line):
            pass  # 32 on both

# ---------------------------------------------------------------- report
print(f"xtensa-abi: {len(exports)} exports and {len(imports & set(ir_decls))} port imports checked "
      f"against the header ({checked} signatures equal), {sum(len(v) for v in ind_sigs.values())} "
      f"indirect calls match {len(called)}/{len(c_callbacks)} callback typedefs, "
      f"{len(order)} layout values equal on LX106 and riscv32, uint16_t extension in the caller "
      f"(gcc and llc-22), .xtensa.info {' '.join(our_info)} as GCC's")
print(f"xtensa-abi: undefined: {' '.join(undefined)}")
for n in notes:
    print(f"xtensa-abi: note: {n}")
if errors:
    print("xtensa-abi: FAIL")
    for e in errors:
        print("  " + e)
    sys.exit(1)
print("xtensa-abi: OK")
