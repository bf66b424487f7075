#!/usr/bin/env python3
"""make_corpus_session.py: writes the seed inputs of tests/fuzz/fuzz_session.c
into tests/fuzz/corpus_session (or the directory given), one file per seed,
the same bytes on every run, so the files can be committed and regenerated.

An input is a configuration byte (bit 0: the client is uid 0), then records
(fuzz_session.c has the whole grammar):
  000.....  + 64 bytes           a raw command record
  001ooooo  s x y v              a shaped command: op, slot/reply, a[], addr/port
  010...aa  off24 n bytes        raw bytes into an area of the region
  011fffss  d [value32]          a ring index or flag set or moved
  100ttttt                       netd runs, the clock moves
  101pssss                       slot s gets an eventfd (p: through the pull hook)
  110lllpp  n                    the peer sends a UDP datagram
  111aaass  ...                  the client acts by the protocol

The seeds open datagram and stream sockets and move data both ways (to the
peer, from the peer, between two slots over netd's loopback), fill the rx
ring so netd waits for room, and then break the protocol in each way
netd checks: command and data ring indices out of range, datagram headers
longer than the ring or than any datagram, reply indices past the table,
unknown ops, option lengths out of range, records rewritten after posting,
writes over the fields netd publishes. Files added by hand (crash inputs
kept as regression tests) are left alone; files this script wrote before
are rewritten.
"""

import os
import struct
import sys

# ops (proto/shm.h)
(NONE, SOCKET, BIND, LISTEN, CONNECT, ACCEPT, SHUTDOWN, CLOSE, SETSOCKOPT,
 GETSOCKOPT, GETNAME, IOCTL, TX, RX, SENDCHECK, RECVCHECK) = range(16)
NO_REPLY = 0xFFFF

# indices into fuzz_session.c's tables
A0 = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 7: 6, "dgram": 7, "stream": 8,
      "sol_socket": 9, "ipproto_tcp": 10, "ipproto_ip": 11, "siocinq": 12,
      "siocoutq": 13, -1: 14, "int_min": 15}
A1 = {0: 0, "udp": 1, "tcp": 2, "reuseaddr": 3, "error": 4, "type": 5, "linger": 6,
      "rcvbuf": 7, "sndbuf": 8, "nodelay": 9, "ttl": 10, "keepalive": 11,
      "maxseg": 12, "info": 13, "reuseport": 14, "bad": 15}
A2 = {4: 0, 0: 1, 1: 2, 8: 3, 36: 4, 37: 5, -1: 6, "int_max": 7}
ADDRS = {0: 0, "ours": 1, "peer": 2, "bcast": 3}
PORTS = {0: 0, 80: 1, 5000: 2, 5001: 3, 7000: 4, 9: 5, 4000: 6, 65535: 7}
UDP_PORTS = {5000: 0, 5001: 1, 7000: 2, 80: 3}
REPLY_NONE, REPLY_OUT_OF_RANGE = 31, 30

# rec_index fields
RX_TAIL, TX_HEAD, RX_CONSUMER_WAITING, TX_PRODUCER_WAITING, WAKE_MASK, CMD_HEAD, \
    CMD_PRODUCER_WAITING, TX_CONSUMER_WAITING = range(8)
# rec_write areas
SLOT_TABLE, DATA_RINGS, CMD_RING, REPLY_TABLE = range(4)
RING = 16384
SLOT_SIZE = 512          # sizeof(struct ncs_slot)


def cfg(root=False):
    return bytes([1 if root else 0])


def raw_cmd(op, slot=0, reply=NO_REPLY, a=(0, 0, 0), addr=0, port=0, flags=0, data=b""):
    return b"\x00" + struct.pack("<HHI3iIHH36s", op, reply, slot, *a, addr, port, flags, data)


def cmd(op, slot=0, reply=REPLY_NONE, a0=0, a1=0, a2=4, addr=0, port=0, v=0):
    s = reply << 3 | slot
    x = A0[a0] | A1[a1] << 4
    y = A2[a2] | ADDRS[addr] << 3 | PORTS[port] << 5
    return bytes([0x20 | op, s, x, y, v & 0xFF])


def write(area, off, data):
    out = b""
    while data:
        chunk, data = data[:255], data[255:]
        out += bytes([0x40 | area]) + struct.pack("!I", off)[1:] + bytes([len(chunk)]) + chunk
        off += len(chunk)
    return out


def index(field, slot=0, delta=None, value=None):
    op = 0x60 | field << 2 | slot
    if value is not None:
        return bytes([op, 0x80]) + struct.pack("!I", value & 0xFFFFFFFF)
    assert -64 <= delta < 64
    return bytes([op, delta & 0x7F])


def run(t=0):
    """netd runs; t < 16: t * 10 ms, else (t - 15) s."""
    return bytes([0x80 | t])


def register(slot, pull=False):
    return bytes([0xA0 | (0x10 if pull else 0) | slot])


def peer_udp(port, n, mult=1):
    return bytes([0xC0 | (mult - 1) << 2 | UDP_PORTS[port], n])


def send_dgram(slot, n, addr="peer", port=4000):
    return bytes([0xE0 | slot, n, ADDRS[addr] << 3 | PORTS[port] << 5])


def send_stream(slot, n16):
    return bytes([0xE4 | slot, n16])


def read_all(slot):
    return bytes([0xE8 | slot])


def read_dgram(slot):
    return bytes([0xEC | slot])


def kick_tx(slot):
    return bytes([0xF0 | slot])


def kick_rx(slot):
    return bytes([0xF4 | slot])


def sleep_wake():
    return bytes([0xF8])


def close(slot):
    return bytes([0xFC | slot])


def udp_socket(slot, port=None):
    out = register(slot) + cmd(SOCKET, slot, 0, a0="dgram")
    if port is not None:
        out += cmd(BIND, slot, 0, port=port)
    return out + run()


def tcp_pair(port=7000):
    """Slot 0 listens, slot 1 connects over netd's own address, slot 2 accepts."""
    return register(0) + register(1) + register(2) + \
        cmd(SOCKET, 0, 0, a0="stream") + cmd(BIND, 0, 0, port=port) + \
        cmd(LISTEN, 0, 0, a0=4) + cmd(SOCKET, 1, 1, a0="stream") + \
        cmd(CONNECT, 1, 1, addr="ours", port=port) + run(1) + run(1) + \
        cmd(ACCEPT, 0, 2, a0=2) + run()


def seeds():
    s = {}
    s["udp-basic"] = cfg() + udp_socket(0, 5000) + peer_udp(5000, 100) + run() + \
        read_dgram(0) + send_dgram(0, 200) + run() + send_dgram(0, 0, "peer", 9) + \
        send_dgram(0, 10, 0, 0) + run() + cmd(GETNAME, 0, 0) + \
        cmd(GETSOCKOPT, 0, 1, a0="sol_socket", a1="type") + \
        cmd(SENDCHECK, 0, 2) + cmd(RECVCHECK, 0, 3) + cmd(IOCTL, 0, 4, a0="siocinq") + \
        close(0) + run()
    s["udp-connect-options"] = cfg() + udp_socket(1) + \
        cmd(SETSOCKOPT, 1, 0, a0="sol_socket", a1="reuseaddr", v=1) + \
        cmd(BIND, 1, 0, port=80) + cmd(BIND, 1, 1, addr="bcast", port=5001) + \
        cmd(CONNECT, 1, 2, addr="peer", port=9) + cmd(GETNAME, 1, 3, a0=1) + \
        cmd(SETSOCKOPT, 1, 4, a0="ipproto_ip", a1="ttl", v=9) + \
        cmd(GETSOCKOPT, 1, 5, a0="ipproto_ip", a1="ttl") + \
        cmd(SETSOCKOPT, 1, 6, a0="sol_socket", a1="linger", a2=8, v=3) + \
        cmd(SHUTDOWN, 1, 7, a0=1) + cmd(CONNECT, 1, 8, a0=1) + send_dgram(1, 30, 0, 0) + \
        run() + cmd(SENDCHECK, 1, 9) + run()
    s["udp-root-privileged"] = cfg(root=True) + udp_socket(0, 80) + udp_socket(1, 5000) + \
        peer_udp(80, 20) + peer_udp(5000, 40) + run() + read_all(0) + read_dgram(1) + run()
    s["udp-rx-ring-full"] = cfg() + udp_socket(0, 5000) + \
        b"".join(peer_udp(5000, 200, 7) for _ in range(16)) + run() + \
        read_dgram(0) + run() + read_dgram(0) + read_dgram(0) + run() + read_all(0) + \
        run() + read_all(0) + run()
    s["udp-tx-many"] = cfg() + udp_socket(0) + \
        b"".join(send_dgram(0, 255, "peer", 4000) for _ in range(40)) + run() + \
        b"".join(send_dgram(0, 255, "peer", 4000) for _ in range(80)) + run() + \
        index(WAKE_MASK, 0, value=0xFFFFFFFF) + index(RX_CONSUMER_WAITING, 0, 1) + \
        peer_udp(5000, 10) + run()
    s["tcp-loopback"] = cfg() + tcp_pair() + \
        b"".join(send_stream(1, 255) + run() for _ in range(6)) + read_all(2) + run(1) + \
        b"".join(send_stream(2, 255) for _ in range(5)) + run(2) + read_all(1) + run(1) + \
        cmd(IOCTL, 2, 3, a0="siocoutq") + \
        cmd(GETSOCKOPT, 2, 4, a0="ipproto_tcp", a1="info", a2="int_max") + \
        cmd(SETSOCKOPT, 1, 5, a0="ipproto_tcp", a1="nodelay", v=1) + \
        cmd(SHUTDOWN, 1, 6, a0=1) + run(1) + cmd(RECVCHECK, 2, 7) + close(2) + \
        run(20) + close(1) + close(0) + run(31)
    s["tcp-rx-ring-full"] = cfg() + tcp_pair() + \
        b"".join(send_stream(1, 255) + run(1) for _ in range(12)) + read_all(2) + run(1) + \
        read_all(2) + kick_rx(2) + run(1)
    s["tcp-close-unread"] = cfg() + tcp_pair() + send_stream(1, 10) + run(1) + \
        cmd(CONNECT, 1, 3, a0=1) + cmd(LISTEN, 2, 4, a0=1) + run() + sleep_wake()
    s["tcp-pull-registration"] = cfg() + register(3, pull=True) + \
        cmd(SOCKET, 3, 0, a0="stream") + cmd(SOCKET, 3, 1, a0="stream") + \
        cmd(SOCKET, 2, 2, a0="dgram") + register(9) + register(9, pull=True) + \
        cmd(SOCKET, 2, 3, a0="dgram") + cmd(CONNECT, 3, 4, addr="peer", port=9) + run(16) + \
        run(31)
    s["hostile-cmd-head"] = cfg() + udp_socket(0) + cmd(GETNAME, 0, 0) + \
        index(CMD_HEAD, value=0x12345678) + run() + cmd(GETNAME, 0, 1) + run()
    s["hostile-cmd-full"] = cfg() + udp_socket(0) + index(CMD_HEAD, value=1 + 1024) + \
        index(CMD_PRODUCER_WAITING, value=1) + run() + run() + run() + run() + run()
    s["hostile-tx-head"] = cfg() + udp_socket(0) + index(TX_HEAD, 0, 63) + \
        index(TX_HEAD, 0, value=RING + 1) + kick_tx(0) + run()
    hdr = struct.pack("<IIHHI", 0xFFFF, 0x0A000001, 4000, 1, 0)
    s["hostile-dgram-len"] = cfg() + udp_socket(0) + \
        write(DATA_RINGS, RING, hdr) + index(TX_HEAD, 0, 24) + kick_tx(0) + run()
    hdr = struct.pack("<IIHHI", 100, 0x0A000001, 4000, 1, 0)
    s["hostile-dgram-short"] = cfg() + udp_socket(0) + \
        write(DATA_RINGS, RING, hdr) + index(TX_HEAD, 0, 40) + kick_tx(0) + run() + \
        udp_socket(1) + index(TX_HEAD, 1, 8) + kick_tx(1) + run()
    s["hostile-rx-tail"] = cfg() + udp_socket(0, 5000) + index(RX_TAIL, 0, 8) + \
        peer_udp(5000, 10) + run()
    s["hostile-replies-and-ops"] = cfg() + udp_socket(0) + \
        cmd(GETNAME, 0, REPLY_OUT_OF_RANGE) + cmd(NONE, 0, 0) + cmd(16, 0, 1) + \
        cmd(31, 0, 2) + cmd(GETNAME, 7, 3) + \
        raw_cmd(GETNAME, 0, 0xFFFE) + raw_cmd(0xFFFF, 0, 4) + \
        raw_cmd(BIND, 0xFFFFFFFF, 5) + raw_cmd(ACCEPT, 0, 6, a=(-1, 0, 0)) + run()
    s["hostile-option-lengths"] = cfg() + udp_socket(0) + \
        cmd(SETSOCKOPT, 0, 0, a0="ipproto_ip", a1="ttl", a2=-1) + \
        cmd(SETSOCKOPT, 0, 1, a0="ipproto_ip", a1="ttl", a2=37) + \
        cmd(SETSOCKOPT, 0, 2, a0="ipproto_ip", a1="ttl", a2="int_max") + \
        cmd(GETSOCKOPT, 0, 3, a0="ipproto_ip", a1="ttl", a2=-1) + \
        cmd(GETSOCKOPT, 0, 4, a0="sol_socket", a1="type", a2="int_max") + \
        raw_cmd(SETSOCKOPT, 0, 5, a=(0, 2, -2147483648)) + run()
    s["hostile-overwrites"] = cfg() + tcp_pair() + \
        write(SLOT_TABLE, 0, bytes(range(256)) * 2) + \
        write(SLOT_TABLE, SLOT_SIZE + 64, struct.pack("<I", 0xFFFFFFFF)) + \
        write(REPLY_TABLE, 0, b"\xff" * 64) + write(CMD_RING, 0, b"\x05" * 128) + \
        send_stream(1, 20) + run(1) + read_all(2) + run() + index(RX_TAIL, 2, 5) + \
        send_stream(1, 20) + run(1)
    s["hostile-rewrite-after-post"] = cfg() + udp_socket(0) + \
        cmd(GETNAME, 0, 0) + write(CMD_RING, 64 * 2, b"\x07\x00") + run() + \
        index(CMD_HEAD, 0, -1) + run() + index(CMD_HEAD, 0, 2) + run()
    return s


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus_session")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)
    print("%d seeds in %s" % (len(seeds()), out))


if __name__ == "__main__":
    main()
