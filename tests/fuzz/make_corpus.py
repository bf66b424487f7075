#!/usr/bin/env python3
"""make_corpus.py: writes the seed inputs of tests/fuzz/fuzz_input.c into
tests/fuzz/corpus (or the directory given), one file per seed, the same
bytes on every run, so the files can be committed and regenerated.

An input is a script of records (see fuzz_input.c):
  0x80 | n            the virtual clock moves n * 100 ms;
  hi, lo, frame...    the peer sends a frame of (hi & 7) << 8 | lo bytes;
                      hi & 0x40 queues it with the next ones as one burst.

The stack is 10.0.0.2/24 at 02:00:00:00:00:02; the peer 10.0.0.1 at
02:00:00:00:00:01. Seeds cover what the stack answers (ARP, echoes of
several sizes, a fragment train of an 8000-byte echo, options) and what it
must refuse (bad checksums and lengths, overlapping and oversized
fragments, spoofed ARP...), so the fuzzer starts deep in every path.
Files added by hand (crash inputs kept as regression tests) are left
alone; files this script wrote before are rewritten.
"""

import os
import struct
import sys

OUR_MAC = bytes([2, 0, 0, 0, 0, 2])
PEER_MAC = bytes([2, 0, 0, 0, 0, 1])
OTHER_MAC = bytes([2, 0, 0, 0, 0, 0x66])
BCAST_MAC = b"\xff" * 6
ALL_HOSTS_MAC = bytes([1, 0, 0x5E, 0, 0, 1])
ZERO_MAC = bytes(6)


def ip(s):
    return bytes(int(x) for x in s.split("."))


OUR_IP = ip("10.0.0.2")
PEER_IP = ip("10.0.0.1")
SUBNET_BCAST = ip("10.0.0.255")

ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_ARP = 0x0806
PROTO_ICMP = 1
MF = 0x2000
MTU = 1500


# ---- wire ----

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(dst, src, etype, payload):
    return dst + src + struct.pack("!H", etype) + payload


def ipv4(payload, src=PEER_IP, dst=OUR_IP, proto=PROTO_ICMP, ident=1, frag=0,
         ttl=64, tos=0, options=b"", total=None, version_ihl=None, bad_csum=False):
    """An IPv4 header (checksum right unless bad_csum) and payload."""
    hlen = 20 + len(options)
    if total is None:
        total = hlen + len(payload)
    if version_ihl is None:
        version_ihl = 0x40 | hlen // 4
    hdr = struct.pack("!BBHHHBBH4s4s", version_ihl, tos, total, ident, frag, ttl,
                      proto, 0, src, dst) + options
    c = csum(hdr) ^ (0x0101 if bad_csum else 0)
    return hdr[:10] + struct.pack("!H", c) + hdr[12:] + payload


def icmp(typ, code, rest, body, bad_csum=False):
    msg = struct.pack("!BBHI", typ, code, 0, rest) + body
    c = csum(msg) ^ (0x8000 if bad_csum else 0)
    return msg[:2] + struct.pack("!H", c) + msg[4:]


def pattern(n, seed=0):
    return bytes((i * 7 + seed) & 0xFF for i in range(n))


def echo(n, ident=0x4242, seq=1, bad_csum=False):
    return icmp(8, 0, ident << 16 | seq, pattern(n, seq), bad_csum)


def arp(op, sha, spa, tha, tpa, htype=1, ptype=ETHERTYPE_IPV4, hlen=6, plen=4):
    return struct.pack("!HHBBH", htype, ptype, hlen, plen, op) + sha + spa + tha + tpa


def to_us(ip_packet, dst_mac=OUR_MAC, src_mac=PEER_MAC):
    return eth(dst_mac, src_mac, ETHERTYPE_IPV4, ip_packet)


def fragments(payload, ident, size=MTU - 20, **kw):
    """The datagram carrying payload, cut into fragments of size bytes."""
    out = []
    for off in range(0, len(payload), size):
        more = off + size < len(payload)
        out.append(to_us(ipv4(payload[off:off + size], ident=ident,
                              frag=(MF if more else 0) | off // 8, **kw)))
    return out


# ---- records ----

def frame(f, burst=False):
    assert len(f) < 2048
    return bytes([(0x40 if burst else 0) | len(f) >> 8, len(f) & 0xFF]) + f


def frames(*fs):
    return b"".join(frame(f) for f in fs)


def clock(ms):
    out = b""
    while ms > 0:
        step = min(ms // 100, 127) or 1
        out += bytes([0x80 | step])
        ms -= step * 100
    return out


def peer_arp_request():
    return eth(BCAST_MAC, PEER_MAC, ETHERTYPE_ARP,
               arp(1, PEER_MAC, PEER_IP, ZERO_MAC, OUR_IP))


def peer_arp_reply():
    return eth(OUR_MAC, PEER_MAC, ETHERTYPE_ARP, arp(2, PEER_MAC, PEER_IP, OUR_MAC, OUR_IP))


# ---- seeds ----

def seeds():
    s = {}
    s["arp-request"] = frames(peer_arp_request())
    s["arp-request-not-for-us"] = frames(
        eth(BCAST_MAC, PEER_MAC, ETHERTYPE_ARP,
            arp(1, PEER_MAC, PEER_IP, ZERO_MAC, ip("10.0.0.9"))))
    s["arp-gratuitous"] = frames(
        eth(BCAST_MAC, PEER_MAC, ETHERTYPE_ARP, arp(1, PEER_MAC, PEER_IP, ZERO_MAC, PEER_IP)))
    s["arp-confirm-after-echo"] = frames(peer_arp_request(), to_us(ipv4(echo(32))),
                                         peer_arp_reply())
    s["arp-unsolicited-reply-poison"] = frames(
        eth(OUR_MAC, OTHER_MAC, ETHERTYPE_ARP, arp(2, OTHER_MAC, PEER_IP, OUR_MAC, OUR_IP)),
        to_us(ipv4(echo(8))))
    s["arp-spoof-our-address"] = frames(
        eth(BCAST_MAC, OTHER_MAC, ETHERTYPE_ARP, arp(1, OTHER_MAC, OUR_IP, ZERO_MAC, OUR_IP)))
    s["arp-malformed"] = frames(
        peer_arp_request()[:14 + 20],
        eth(BCAST_MAC, PEER_MAC, ETHERTYPE_ARP,
            arp(1, PEER_MAC, PEER_IP, ZERO_MAC, OUR_IP, hlen=255)),
        eth(BCAST_MAC, PEER_MAC, ETHERTYPE_ARP,
            arp(1, PEER_MAC, PEER_IP, ZERO_MAC, OUR_IP, htype=6)),
        eth(BCAST_MAC, PEER_MAC, ETHERTYPE_ARP, arp(9, PEER_MAC, PEER_IP, ZERO_MAC, OUR_IP)),
        eth(BCAST_MAC, PEER_MAC, ETHERTYPE_ARP, arp(1, BCAST_MAC, PEER_IP, ZERO_MAC, OUR_IP)))

    s["echo-0"] = frames(to_us(ipv4(echo(0))))
    s["echo-56"] = frames(to_us(ipv4(echo(56))))
    s["echo-1472"] = frames(to_us(ipv4(echo(1472))))
    s["echo-padded-to-60"] = frames(to_us(ipv4(echo(4))) + bytes(60 - 46))
    s["echo-burst"] = b"".join(frame(to_us(ipv4(echo(64, seq=i), ident=i)), burst=i < 4)
                               for i in range(5))
    s["echo-unresolved-neighbour"] = frames(
        to_us(ipv4(echo(16), src=ip("10.0.0.5")), src_mac=OTHER_MAC)) + clock(4000)
    s["echo-off-link-source"] = frames(to_us(ipv4(echo(16), src=ip("192.0.2.1"))))

    big = echo(8000)
    s["frag-echo-8000"] = frames(*fragments(big, 0x100))
    s["frag-echo-8000-reverse"] = frames(*reversed(fragments(big, 0x101)))
    s["frag-echo-8000-burst"] = b"".join(
        frame(f, burst=True) for f in fragments(big, 0x102)[:-1]) + \
        frame(fragments(big, 0x102)[-1])
    s["frag-timeout"] = frames(*fragments(big, 0x103)[:2]) + clock(2500)
    s["frag-small-pieces"] = frames(*fragments(echo(200), 0x104, size=64))
    msg = echo(32)
    s["frag-teardrop-overlap"] = frames(
        to_us(ipv4(msg[:24], ident=0x105, frag=MF)),
        to_us(ipv4(msg[16:40], ident=0x105, frag=16 // 8)),
        to_us(ipv4(msg[24:40], ident=0x105, frag=24 // 8)))
    s["frag-teardrop-classic"] = frames(
        to_us(ipv4(msg[:40], ident=0x106, frag=MF)),
        to_us(ipv4(msg[24:28], ident=0x106, frag=24 // 8)))
    msg = echo(64)
    s["frag-duplicate"] = frames(
        to_us(ipv4(msg[:24], ident=0x107, frag=MF)),
        to_us(ipv4(msg[:24], ident=0x107, frag=MF)),
        to_us(ipv4(msg[24:48], ident=0x107, frag=MF | 3)),
        to_us(ipv4(msg[48:], ident=0x107, frag=6)))
    s["frag-ping-of-death"] = frames(
        to_us(ipv4(msg[:24], ident=0x108, frag=MF)),
        to_us(ipv4(pattern(1480), ident=0x108, frag=65000 // 8)))
    s["frag-bad-lengths"] = frames(
        to_us(ipv4(msg[:13], ident=0x109, frag=MF)),
        to_us(ipv4(b"", ident=0x10A, frag=1)),
        to_us(ipv4(msg[:24], ident=0x10B, frag=MF)),
        to_us(ipv4(msg[24:32], ident=0x10B, frag=3)),
        to_us(ipv4(msg[32:48], ident=0x10B, frag=4)))

    opts_ok = bytes([0x94, 4, 0, 0, 0x07, 7, 4, 0, 0, 0, 0, 1])  # router alert, RR
    s["ip-options"] = frames(to_us(ipv4(echo(24), options=opts_ok)))
    s["ip-options-fragmented"] = frames(*fragments(echo(3000), 0x10C, size=1472,
                                                   options=opts_ok))
    s["ip-options-malformed"] = frames(
        to_us(ipv4(echo(24), options=bytes([0x07, 9, 4, 0]))),
        to_us(ipv4(echo(24), options=bytes([1, 1, 1, 0x44]))))
    s["ip-header-errors"] = frames(
        to_us(ipv4(echo(8), version_ihl=0x65)),
        to_us(ipv4(echo(8), version_ihl=0x44)),
        to_us(ipv4(icmp(8, 0, 0, b""), version_ihl=0x4F)),
        to_us(ipv4(echo(8), total=1000)),
        to_us(ipv4(echo(8), total=19)),
        to_us(ipv4(echo(8), bad_csum=True)),
        to_us(ipv4(echo(8)))[:14 + 19])
    s["ip-martian-sources"] = frames(*(to_us(ipv4(echo(8), src=ip(a))) for a in
                                       ("224.0.0.5", "127.0.0.1", "10.0.0.2", "0.0.0.0",
                                        "255.255.255.255", "10.0.0.255")))
    s["ip-not-for-us"] = frames(to_us(ipv4(echo(8), dst=ip("192.0.2.9"))),
                                to_us(ipv4(echo(8)), dst_mac=BCAST_MAC))
    s["ip-unknown-protocol"] = frames(to_us(ipv4(pattern(12), proto=99)),
                                      to_us(ipv4(pattern(8), proto=17)))

    quote = ipv4(pattern(8), src=OUR_IP, dst=PEER_IP, proto=17)
    s["icmp-errors-in"] = frames(
        to_us(ipv4(icmp(3, 3, 0, quote))),
        to_us(ipv4(icmp(11, 0, 0, quote))),
        to_us(ipv4(icmp(3, 4, 1400, quote[:10]))),
        to_us(ipv4(icmp(12, 0, 0, bytes([0x4F]) + quote[1:]))))
    s["icmp-malformed"] = frames(
        to_us(ipv4(echo(16, bad_csum=True))),
        to_us(ipv4(icmp(42, 0, 0, pattern(8)))),
        to_us(ipv4(echo(8)[:4])),
        to_us(ipv4(icmp(13, 0, 0, pattern(12)))))
    s["icmp-echo-broadcast"] = frames(
        to_us(ipv4(echo(8), dst=SUBNET_BCAST), dst_mac=BCAST_MAC),
        to_us(ipv4(echo(8), dst=ip("255.255.255.255")), dst_mac=BCAST_MAC),
        to_us(ipv4(echo(8), dst=ip("224.0.0.1")), dst_mac=ALL_HOSTS_MAC))
    s["eth-errors"] = frames(
        to_us(ipv4(echo(8)))[:10],
        to_us(ipv4(echo(8)), dst_mac=OTHER_MAC),
        to_us(ipv4(echo(8)), src_mac=ALL_HOSTS_MAC),
        eth(OUR_MAC, PEER_MAC, 0x86DD, bytes([0x60]) + bytes(39)))
    s["clock-long-idle"] = frames(peer_arp_request(), to_us(ipv4(echo(8)))) + clock(12000) + \
        frames(to_us(ipv4(echo(8, seq=2))))
    return s


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)
    print("%d seeds in %s" % (len(seeds()), out))


if __name__ == "__main__":
    main()
