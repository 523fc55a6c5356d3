#!/usr/bin/env python3
"""Checks that FILE is a 64-bit Mach-O executable for CPU (arm64 or x86_64): what
scripts/build_macos.sh promises, read from the header itself (mach-o/loader.h), no `file` needed.
Usage: check_macho.py FILE CPU. Prints one line; exit 1 when it is not."""
import struct
import sys

MH_MAGIC_64 = 0xFEEDFACF
MH_EXECUTE = 2
CPUS = {"arm64": 0x0100000C, "x86_64": 0x01000007}


def main() -> int:
    path, cpu = sys.argv[1], sys.argv[2]
    with open(path, "rb") as f:
        head = f.read(16)
    if len(head) < 16:
        print(f"{path}: too short for a Mach-O header")
        return 1
    magic, cputype, _subtype, filetype = struct.unpack("<IIII", head)
    if magic != MH_MAGIC_64:
        print(f"{path}: not a 64-bit Mach-O file (magic {magic:#x})")
        return 1
    if cputype != CPUS[cpu]:
        names = {v: k for k, v in CPUS.items()}
        print(f"{path}: Mach-O for {names.get(cputype, hex(cputype))}, not {cpu}")
        return 1
    if filetype != MH_EXECUTE:
        print(f"{path}: Mach-O of file type {filetype}, not an executable")
        return 1
    print(f"{path}: Mach-O 64-bit {cpu} executable")
    return 0


if __name__ == "__main__":
    sys.exit(main())
