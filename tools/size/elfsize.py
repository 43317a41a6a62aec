#!/usr/bin/env python3
"""Section sizes of a linked ELF (32 or 64 bit, either endianness), printed as
   size <target> text=<bytes> rodata=<bytes> data=<bytes> bss=<bytes>
text = allocated executable sections; rodata = allocated read-only data
(including .ARM.exidx and the like); data = allocated writable sections with
contents; bss = allocated sections without contents."""
import struct
import sys

SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 0x1, 0x2, 0x4
SHT_NOBITS = 8


def sections(path):
    with open(path, "rb") as f:
        elf = f.read()
    if elf[:4] != b"\x7fELF":
        raise SystemExit(f"{path}: not an ELF file")
    is64 = elf[4] == 2
    end = "<" if elf[5] == 1 else ">"
    if is64:
        shoff, = struct.unpack_from(end + "Q", elf, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", elf, 0x3A)
        fmt = end + "IIQQQQIIQQ"
    else:
        shoff, = struct.unpack_from(end + "I", elf, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", elf, 0x2E)
        fmt = end + "IIIIIIIIII"
    hdrs = [struct.unpack_from(fmt, elf, shoff + i * shentsize) for i in range(shnum)]
    strtab = hdrs[shstrndx]
    names = elf[strtab[4]: strtab[4] + strtab[5]]
    for name_off, typ, flags, _addr, _off, size, *_ in hdrs:
        name = names[name_off: names.index(b"\0", name_off)].decode()
        yield name, typ, flags, size


def main():
    target, path = sys.argv[1], sys.argv[2]
    tot = {"text": 0, "rodata": 0, "data": 0, "bss": 0}
    for _name, typ, flags, size in sections(path):
        if not flags & SHF_ALLOC:
            continue
        if typ == SHT_NOBITS:
            tot["bss"] += size
        elif flags & SHF_EXECINSTR:
            tot["text"] += size
        elif flags & SHF_WRITE:
            tot["data"] += size
        else:
            tot["rodata"] += size
    print(f"size {target} text={tot['text']} rodata={tot['rodata']} data={tot['data']} bss={tot['bss']}")


if __name__ == "__main__":
    main()
