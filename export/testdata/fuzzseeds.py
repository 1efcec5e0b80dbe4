#!/usr/bin/env python3
"""Writes the seed corpus of FuzzVerifyZip (testdata/fuzz/FuzzVerifyZip):
a small valid bag made by Python's zipfile and hostile variants of it.
Run from export/: python3 testdata/fuzzseeds.py"""
import hashlib
import io
import os
import stat
import struct
import zipfile

OUT = os.path.join("testdata", "fuzz", "FuzzVerifyZip")


def entry(name, mode=stat.S_IFREG | 0o644):
    zi = zipfile.ZipInfo(name, date_time=(2021, 3, 31, 0, 0, 0))
    zi.create_system, zi.external_attr, zi.compress_type = 3, mode << 16, zipfile.ZIP_DEFLATED
    return zi


def bag(extra=(), bomb_mib=0):
    payload = {"data/profile.json": b'{"id":"fuzz"}\n'}
    lines = lambda files: "".join(
        "%s  %s\n" % (hashlib.sha256(b).hexdigest(), p) for p, b in sorted(files.items())).encode()
    manifest = lines(payload)
    tags = {
        "bagit.txt": b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
        "bag-info.txt": b"Payload-Oxum: %d.1\n" % len(payload["data/profile.json"]),
        "manifest-sha256.txt": manifest,
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for p, b in payload.items():
            z.writestr(entry(p), b)
        for p, b in tags.items():
            if p == "manifest-sha256.txt" and bomb_mib:
                line = b"0" * 64 + b"  data/x\n"
                chunk = (line * ((1 << 20) // len(line) + 1))[: 1 << 20]
                with z.open(entry(p), "w") as w:
                    for _ in range(bomb_mib):
                        w.write(chunk)
            else:
                z.writestr(entry(p), b)
        z.writestr(entry("tagmanifest-sha256.txt"), lines(tags))
        for name, body, mode in extra:
            z.writestr(entry(name, mode), body)
    return buf.getvalue()


def lie(data, name, size):
    data, raw, i = bytearray(data), name.encode(), 0
    while (i := data.find(b"PK\x01\x02", i)) >= 0:
        n = struct.unpack_from("<H", data, i + 28)[0]
        if bytes(data[i + 46 : i + 46 + n]) == raw:
            struct.pack_into("<I", data, i + 24, size)
        i += 4
    return bytes(data)


def go_corpus(data):
    """The file format of Go's fuzzing corpus: one []byte in a Go string literal."""
    lit = "".join(chr(b) if 0x20 <= b < 0x7F and b not in (0x22, 0x5C) else "\\x%02x" % b for b in data)
    return 'go test fuzz v1\n[]byte("%s")\n' % lit


REG, LNK, FIFO = stat.S_IFREG | 0o644, stat.S_IFLNK | 0o777, stat.S_IFIFO | 0o644
SEEDS = {
    "valid": bag(),
    "dotdot": bag([("../../evil.sh", b"#!/bin/sh\n", REG)]),
    "absolute": bag([("/tmp/x", b"x", REG)]),
    "added": bag([("index2.html", b"<script>", REG), (".bashrc", b"x", REG)]),
    "symlink": bag([("data/zero", b"/dev/zero", LNK)]),
    "fifo": bag([("data/pipe", b"", FIFO)]),
    "duplicate": bag([("data/profile.json", b"{}", REG)]),
    "bomb": bag(bomb_mib=4),
    "bomb-lies": lie(bag(bomb_mib=4), "manifest-sha256.txt", 100),
}

os.makedirs(OUT, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(OUT, name), "w") as f:
        f.write(go_corpus(data))
