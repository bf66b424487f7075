#!/usr/bin/env python3
"""make_corpus_tcp.py: writes the seed inputs of tests/fuzz/fuzz_tcp.c into
tests/fuzz/corpus_tcp (or the directory given), one file per seed, the
same bytes on every run, so the files can be committed and regenerated.

An input is two configuration bytes, then records (fuzz_tcp.c has the
whole grammar):
  cfg0, cfg1                the peer's ISN and SYN options; the listener's
  000bcdsr flags ctl ...    a segment on the current connection, its SEQ
                            and ACK relative to netd's RCV.NXT and SND.UNA
  001nnnnn                  the clock moves
  010aaaaa                  the application acts (read, write, close...)
  011xxxxh                  the peer opens another connection
  100.erpf len16 bytes      a raw segment or frame
  101nnnnn                  another connection becomes current
  110..ttt                  an ICMP error about netd's last segment
  111hwfzd                  the peer acknowledges

Each input starts on an ESTABLISHED connection; the seeds walk it through
data in order, out of order, duplicated and outside the window, window
probes both ways, RST and SYN in every place RFC 5961 distinguishes, FIN
from either side, SACK blocks, timestamps and PAWS, sequence numbers
across 2^32, broken options and headers, ICMP errors, timers and several
connections, so the fuzzer starts deep in every path. Files added by hand
(crash inputs kept as regression tests) are left alone; files this script
wrote before are rewritten.
"""

import os
import struct
import sys

# TCP flags
FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20

# cfg0
ISN_WRAP, ISN_MID, ISN_GIVEN = 1, 2, 3
OUR_ISN_WRAP = 0x04
NO_TS, NO_SACK, NO_WS = 0x08, 0x10, 0x20
MSS_536 = 0x40
PEER_WIN_SMALL = 0x80
# cfg1
RCVBUF_2304, RCVBUF_8192, RCVBUF_32768 = 1, 2, 3
SNDBUF_4096, NODELAY, KEEPALIVE, USER_TIMEOUT, RENO, MAXSEG_536 = (
    0x04, 0x08, 0x10, 0x20, 0x40, 0x80)

EXACT = None          # SEG.SEQ = RCV.NXT, SEG.ACK = SND.MAX


def cfg(cfg0=0, cfg1=0, isn=None):
    out = bytes([cfg0, cfg1])
    if cfg0 & 3 == ISN_GIVEN:
        out += struct.pack("!I", isn)
    return out


def _offset(v):
    """(mode, bytes) for an offset, or for EXACT."""
    if v is None:
        return 3, b""
    if -128 <= v < 128:
        return 0, struct.pack("!b", v)
    if -32768 <= v < 32768:
        return 1, struct.pack("!h", v)
    return 2, struct.pack("!I", v & 0xFFFFFFFF)


def seg(flags, seq=EXACT, ack=EXACT, win=None, ts_delta=None, dlen=0, sack=None,
        raw_opts=None, bad_csum=False, burst=False, no_ts=False):
    """A segment: seq an offset from RCV.NXT, ack one from SND.UNA (EXACT:
    RCV.NXT and SND.MAX); dlen a number or "mss"; sack [(start, length)]
    from SND.UNA."""
    op = ((1 if bad_csum else 0) | (2 if sack else 0) | (4 if burst else 0) |
          (8 if raw_opts is not None else 0) | (0x10 if no_ts else 0))
    smode, sbytes = _offset(seq)
    amode, abytes = _offset(ack)
    ctl = smode | amode << 2
    tail = sbytes + abytes
    if win is not None:
        ctl |= 0x10
        tail += struct.pack("!H", win)
    if ts_delta is not None:
        ctl |= 0x20
        tail += struct.pack("!b", ts_delta)
    if dlen == "mss":
        ctl |= 0xC0
    elif dlen > 255:
        ctl |= 0x80
        tail += struct.pack("!H", dlen)
    elif dlen:
        ctl |= 0x40
        tail += bytes([dlen])
    if sack:
        tail += bytes([len(sack) - 1])
        for start, length in sack:
            tail += struct.pack("!hH", start, length)
    if raw_opts is not None:
        tail += bytes([len(raw_opts)]) + raw_opts
    return bytes([op, flags, ctl]) + tail


def clock(ms):
    """The clock moves by about ms."""
    out = b""
    while ms >= 5000:
        n = min(ms // 5000, 11)
        out += bytes([0x20 | (20 + n)])
        ms -= n * 5000
    while ms >= 200:
        n = min(ms // 200, 10)
        out += bytes([0x20 | (10 + n)])
        ms -= n * 200
    if ms >= 10:
        out += bytes([0x20 | min(ms // 10, 10)])
    return out


NEXT_TIMER = bytes([0x20])

# the application
STOP_READING, READ, WRITE, WRITE_MORE, WRITE_1, SHUT_WR, SHUT_RD, CLOSE, ABORT = range(9)
SET_NODELAY, CORK_ON, CORK_OFF, KEEPALIVE_ON, USER_TIMEOUT_2S, RCVLOWAT = range(9, 15)
PEEK, READ_1, INFO, CC_RENO, MAXSEG_200 = range(15, 20)


def app(action, n=None):
    """An application action; WRITE and WRITE_MORE send (n // 64) * 64 bytes."""
    out = bytes([0x40 | action])
    if action in (WRITE, WRITE_MORE):
        out += bytes([max(n // 64 - 1, 0)])
    return out


def open_conn(complete=True, no_ts=False, no_sack=False, no_ws=False):
    return bytes([0x60 | (1 if complete else 0) | (2 if no_ts else 0) |
                  (4 if no_sack else 0) | (8 if no_ws else 0)])


def select(n):
    return bytes([0xA0 | n])


def raw(data, ethernet=False, relative=False, ports=False, fix_csum=False):
    op = 0x80 | (1 if fix_csum else 0) | (2 if ports else 0) | (4 if relative else 0) | \
        (8 if ethernet else 0)
    return bytes([op]) + struct.pack("!H", len(data)) + data


FRAG_NEEDED, PORT_UNREACH, HOST_UNREACH, NET_UNREACH, PROTO_UNREACH, TIME_EXCEEDED, \
    PARAM_PROBLEM, SOURCE_QUENCH = range(8)


def icmp(kind, mtu=None):
    out = bytes([0xC0 | kind])
    if kind == FRAG_NEEDED:
        out += struct.pack("!H", mtu)
    return out


def ack(data=False, zero_window=False, fin=False, dups=False, half=False):
    return bytes([0xE0 | (1 if data else 0) | (2 if zero_window else 0) | (4 if fin else 0) |
                  (8 if dups else 0) | (0x10 if half else 0)])


def raw_tcp(seq, ackn, flags, doff_words=5, win=65535, payload=b""):
    """A TCP header (ports written in by the target) with relative numbers."""
    return struct.pack("!HHIIBBHHH", 0, 0, seq & 0xFFFFFFFF, ackn & 0xFFFFFFFF,
                       doff_words << 4, flags, win, 0, 0) + payload


# ---- seeds ----

def seeds():
    s = {}
    s["established-idle"] = cfg()
    s["data-in-order-odd-flags"] = cfg() + seg(ACK | PSH, dlen=100) + \
        seg(ACK | PSH, dlen=200) + seg(ACK, dlen="mss") + ack() + clock(300) + \
        seg(ACK | URG, dlen=10) + seg(0xC0 | ACK, dlen=10) + seg(0xFF, seq=50) + seg(0, dlen=5) + \
        seg(FIN) + ack()
    s["data-out-of-order"] = cfg() + seg(ACK, seq=200, dlen=100) + seg(ACK, seq=500, dlen=100) + \
        seg(ACK, seq=100, dlen=100) + seg(ACK, dlen=100) + seg(ACK, dlen=300) + ack()
    s["data-duplicate-and-old"] = cfg() + seg(ACK, dlen=100) + seg(ACK, seq=-100, dlen=100) + \
        seg(ACK, seq=-50, dlen=100) + seg(ACK, seq=-2000, dlen=10) + ack()
    s["data-beyond-window"] = cfg(0, RCVBUF_2304) + seg(ACK, seq=4000, dlen=100) + \
        seg(ACK, seq=100000, dlen=100) + seg(ACK, seq=-3000000, dlen=10)
    s["zero-window-from-us"] = cfg(0, RCVBUF_2304) + app(STOP_READING) + \
        b"".join(seg(ACK, dlen=536) for _ in range(6)) + seg(ACK, seq=-1, dlen=1) + \
        seg(ACK, dlen=0) + clock(1000) + app(READ) + ack() + seg(ACK, dlen=100)
    s["zero-window-from-peer"] = cfg() + app(WRITE, 8192) + ack(zero_window=True) + \
        NEXT_TIMER * 3 + ack(zero_window=True) + clock(3000) + ack() + clock(500) + ack()
    s["rst-variants"] = cfg() + seg(RST, seq=100000000) + seg(RST, seq=50) + \
        seg(RST | ACK, seq=10) + clock(600) + seg(RST, seq=-1) + seg(RST)
    s["syn-in-established"] = cfg() + seg(SYN) + seg(SYN, seq=1000) + clock(600) + \
        seg(SYN | ACK, seq=5) + seg(SYN | RST) + seg(SYN | FIN, seq=100000000)
    s["fin-from-peer"] = cfg() + seg(ACK | PSH, dlen=50) + seg(ACK | FIN) + ack() + \
        clock(100) + ack() + seg(ACK, dlen=10)
    s["fin-from-us-time-wait"] = cfg() + app(WRITE, 256) + app(CLOSE) + ack() + \
        ack(fin=True) + clock(1000) + seg(ACK, seq=-1) + clock(61000)
    s["fin-out-of-order"] = cfg() + seg(ACK | FIN, seq=100, dlen=20) + seg(ACK, dlen=100) + \
        ack() + app(SHUT_WR) + ack()
    s["sack-recovery"] = cfg() + app(WRITE, 16384) + \
        seg(ACK, ack=0, sack=[(1448, 1448)]) + \
        seg(ACK, ack=0, sack=[(1448, 2896), (5792, 1448)]) + \
        seg(ACK, ack=0, sack=[(1448, 5792)]) + ack(half=True) + clock(300) + ack() + \
        seg(ACK, sack=[(-2000, 500)])
    s["newreno-dupacks"] = cfg(NO_SACK, RENO) + app(WRITE, 16384) + ack(dups=True) + \
        ack(dups=True) + ack(half=True) + ack(dups=True) + ack()
    s["timestamps-paws"] = cfg() + seg(ACK, dlen=10, ts_delta=5) + \
        seg(ACK, dlen=10, ts_delta=-100) + seg(ACK, dlen=10, no_ts=True) + \
        seg(RST, ts_delta=-100, seq=1) + seg(ACK, dlen=10)
    s["wrap-both-isns"] = cfg(ISN_WRAP | OUR_ISN_WRAP) + app(WRITE, 8192) + ack(half=True) + \
        ack() + b"".join(seg(ACK, dlen="mss") for _ in range(4)) + ack()
    s["wrap-given-isn"] = cfg(ISN_GIVEN, 0, isn=0xFFFFFFF0) + \
        seg(ACK, dlen=100) + seg(ACK, seq=-0x7FFFFFFF, dlen=10) + seg(ACK, seq=0x7FFFFFFF) + \
        seg(ACK, ack=-0x7FFFFFFF) + seg(ACK, ack=0x7FFFFFFF)
    s["options-broken"] = cfg() + \
        seg(ACK, dlen=10, raw_opts=bytes([1, 30, 40, 0])) + \
        seg(ACK, dlen=10, raw_opts=bytes([2, 0, 0, 0])) + \
        seg(ACK, dlen=10, raw_opts=bytes([1, 1, 1, 30])) + \
        seg(ACK, dlen=10, raw_opts=bytes([8, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])) + \
        seg(ACK, dlen=10, raw_opts=bytes([3, 3, 14, 2, 4, 0x05, 0xB4, 4, 2, 0, 0, 0])) + \
        seg(ACK, dlen=10, raw_opts=bytes([5, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
    s["header-broken"] = cfg() + seg(ACK, dlen=10, bad_csum=True) + \
        raw(raw_tcp(0, 0, ACK)[:12], ports=True, relative=True, fix_csum=True) + \
        raw(raw_tcp(0, 0, ACK, doff_words=15) + b"x" * 8, ports=True, relative=True,
            fix_csum=True) + \
        raw(raw_tcp(0, 0, ACK, doff_words=3) + b"x" * 8, ports=True, relative=True,
            fix_csum=True) + \
        raw(raw_tcp(0, 0, ACK | PSH, payload=b"hello"), ports=True, relative=True,
            fix_csum=True) + \
        raw(bytes(6 * [0xFF]) + bytes([2, 0, 0, 0, 0, 1, 8, 6]) +
            struct.pack("!HHBBH", 1, 0x800, 6, 4, 1) + bytes([2, 0, 0, 0, 0, 1, 10, 0, 0, 1]) +
            bytes(6) + bytes([10, 0, 0, 2]), ethernet=True) + \
        raw(b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01\x08\x00" + b"\x45",
            ethernet=True)
    s["ack-unsent-and-too-old"] = cfg() + app(WRITE, 2048) + seg(ACK, ack=100000, dlen=5) + \
        seg(ACK, ack=-1000, dlen=5) + seg(ACK, ack=-0x40000000, dlen=5) + ack()
    s["icmp-errors"] = cfg() + app(WRITE, 4096) + icmp(FRAG_NEEDED, 576) + \
        icmp(FRAG_NEEDED, 68) + icmp(PORT_UNREACH) + icmp(TIME_EXCEEDED) + \
        icmp(SOURCE_QUENCH) + NEXT_TIMER + icmp(HOST_UNREACH) + clock(5000) + ack()
    s["many-connections"] = cfg() + open_conn() + seg(ACK, dlen=100) + \
        open_conn(complete=False) + clock(1500) + open_conn(no_ts=True, no_sack=True) + \
        select(0) + seg(RST) + select(1) + app(CLOSE) + ack() + ack(fin=True) + \
        b"".join(open_conn() for _ in range(6)) + select(3) + seg(ACK, dlen=10)
    s["syn-recv-half-open"] = cfg() + open_conn(complete=False) + clock(1000) + \
        seg(ACK, ack=100) + seg(SYN, seq=-1) + clock(3000) + seg(RST) + \
        open_conn(complete=False) + NEXT_TIMER * 6
    s["rto-give-up"] = cfg() + app(WRITE, 4096) + b"".join(NEXT_TIMER for _ in range(20)) + \
        clock(55000) * 20
    s["keepalive"] = cfg(0, KEEPALIVE) + clock(1100) + ack() + clock(1100) + \
        seg(ACK, seq=-1) + clock(5000)
    s["no-options-small-mss"] = cfg(NO_TS | NO_SACK | NO_WS | MSS_536, MAXSEG_536) + \
        app(WRITE, 4096) + ack() + seg(ACK, dlen=536) + seg(ACK, dlen="mss") + ack()
    s["small-peer-window"] = cfg(PEER_WIN_SMALL, SNDBUF_4096) + app(WRITE, 16384) + \
        ack() + ack() + seg(ACK, win=0) + NEXT_TIMER + seg(ACK, win=8192) + ack()
    s["delayed-acks-cork"] = cfg() + b"".join(seg(ACK, dlen=100) + clock(10)
                                               for _ in range(20)) + \
        app(CORK_ON) + app(WRITE_1) + app(WRITE_MORE, 128) + clock(300) + app(CORK_OFF) + \
        app(SET_NODELAY) + app(WRITE_1) + ack()
    s["close-then-data"] = cfg() + app(SHUT_RD) + seg(ACK, dlen=100) + app(STOP_READING) + \
        seg(ACK, dlen=100) + app(CLOSE) + seg(ACK, dlen=100) + seg(ACK, seq=100)
    s["app-misc"] = cfg() + app(RCVLOWAT) + seg(ACK, dlen=50) + app(PEEK) + app(READ_1) + \
        app(INFO) + app(CC_RENO) + app(MAXSEG_200) + app(WRITE, 2048) + ack() + \
        app(USER_TIMEOUT_2S) + app(KEEPALIVE_ON) + clock(3000) + app(WRITE, 1024) + clock(6000)
    return s


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus_tcp")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)
    print("%d seeds in %s" % (len(seeds()), out))


if __name__ == "__main__":
    main()
