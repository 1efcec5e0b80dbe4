#!/usr/bin/env python3
"""Rewrites a zip with Python's own zipfile, adding hostile entries, so the
tests of `verify FOLDER` do not share a bug with the Go writer they check.

usage: hostilezip.py IN OUT OPS_JSON

OPS_JSON is a list of operations; one naming an entry IN holds replaces it
(except "dup", which adds a second entry of that name):
  ["add", name, text]            a regular file
  ["dup", name, text]            a second entry with an existing name
  ["symlink", name, target]      a symlink entry (unix mode in the external attributes)
  ["fifo", name]                 a FIFO entry
  ["bomb", name, mib]            MiB of repeated manifest lines, deflated, written in chunks
  ["lie", name, size]            after writing, declare size bytes for name (both headers)
"""
import json
import shutil
import stat
import struct
import sys
import zipfile


def info(name, mode):
    zi = zipfile.ZipInfo(name, date_time=(2021, 3, 31, 0, 0, 0))
    zi.create_system = 3  # unix: the external attributes hold st_mode
    zi.external_attr = mode << 16
    zi.compress_type = zipfile.ZIP_DEFLATED
    return zi


def write(zout, op):
    kind, name = op[0], op[1]
    if kind in ("add", "dup"):
        zout.writestr(info(name, stat.S_IFREG | 0o644), op[2])
    elif kind == "symlink":
        zi = info(name, stat.S_IFLNK | 0o777)
        zi.compress_type = zipfile.ZIP_STORED
        zout.writestr(zi, op[2])
    elif kind == "fifo":
        zout.writestr(info(name, stat.S_IFIFO | 0o644), "")
    elif kind == "bomb":
        line = ("0" * 64 + "  data/broadcasts/b/hls/segment-000000.ts\n").encode()
        chunk = line * ((1 << 20) // len(line) + 1)
        chunk = chunk[: 1 << 20]
        with zout.open(info(name, stat.S_IFREG | 0o644), "w") as w:
            for _ in range(op[2]):
                w.write(chunk)


def lie(path, name, size):
    """Patches the uncompressed size of name in its local and central headers."""
    data = bytearray(open(path, "rb").read())
    raw = name.encode()
    i = 0
    while (i := data.find(b"PK\x01\x02", i)) >= 0:
        n = struct.unpack_from("<H", data, i + 28)[0]
        if bytes(data[i + 46 : i + 46 + n]) == raw:
            struct.pack_into("<I", data, i + 24, size)
            local = struct.unpack_from("<I", data, i + 42)[0]
            struct.pack_into("<I", data, local + 22, size)
        i += 4
    open(path, "wb").write(bytes(data))


def main():
    src, dst, ops = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    if ops and all(op[0] == "lie" for op in ops):
        shutil.copyfile(src, dst)  # patch only: no entry is read, a bomb stays cheap
    else:
        rewrite(src, dst, ops)
    for op in ops:
        if op[0] == "lie":
            lie(dst, op[1], op[2])


def rewrite(src, dst, ops):
    replaced = {op[1] for op in ops if op[0] not in ("dup", "lie")}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for zi in zin.infolist():
            if zi.filename not in replaced:
                zout.writestr(zi, zin.read(zi.filename))
        for op in ops:
            if op[0] != "lie":
                write(zout, op)


if __name__ == "__main__":
    main()
