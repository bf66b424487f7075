#!/usr/bin/env python3
"""make_corpus_ctl.py: writes the seed inputs of fuzz_ctl.c (the control
socket) to tests/fuzz/corpus_ctl. Messages are proto/netd.proto's Request,
encoded here by hand: a flags byte (bit 0 a valid Hello first, bit 1 then
Attach), then records of a 16-bit length, the message, and an fd count."""
import os
import sys


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, payload):
    """A length-delimited field."""
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def vfield(num, value):
    return varint(num << 3) + varint(value)


def record(msg, nfds=0):
    return len(msg).to_bytes(2, "big") + msg + bytes([nfds])


HELLO = field(1, vfield(1, 1) + vfield(2, 1))
SEEDS = {
    "status": b"\x01" + record(field(10, b"")),
    "no_hello": b"\x00" + record(field(10, b"")),
    "hello_again": b"\x01" + record(HELLO),
    "hello_future": b"\x00" + record(field(1, vfield(1, 7) + vfield(2, 9))),
    "attach_twice": b"\x03" + record(field(2, b"")),
    "register_one": b"\x03" + record(field(3, field(1, b"\x00")), 1),
    "register_mismatch": b"\x03" + record(field(3, field(1, b"\x00\x01")), 1),
    "register_no_session": b"\x01" + record(field(3, field(1, b"\x02")), 1),
    "register_out_of_range": b"\x03" + record(field(3, field(1, varint(70000))), 1),
    "register_twice": b"\x03" + record(field(3, field(1, b"\x01")), 1)
    + record(field(3, field(1, b"\x01")), 1),
    "detach": b"\x03" + record(field(4, b"")),
    "every_query": b"\x01" + b"".join(record(field(n, b"")) for n in (10, 11, 12, 14, 15, 16)),
    "route_add_del": b"\x01"
    + record(field(13, vfield(1, 1) + field(2, b"10.9.0.0/16") + field(3, b"10.0.0.1")))
    + record(field(13, field(2, b"10.9.0.0/16"))),
    "route_bad": b"\x01" + record(field(13, vfield(1, 1) + field(2, b"300.1/99") + field(3, b"x"))),
    "capture_to_eventfd": b"\x01" + record(field(17, vfield(2, 3)), 1),
    "capture_no_fd": b"\x01" + record(field(17, b"")),
    "truncated": b"\x01" + record(field(1, vfield(1, 1))[:-1]),
    "garbage": b"\x01" + record(bytes(range(256))),
    "empty": b"\x01" + record(b""),
    "fds_only": b"\x03" + record(b"", 3),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus_ctl")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
