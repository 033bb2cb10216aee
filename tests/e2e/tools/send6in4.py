#!/usr/bin/env python3
"""Send hand-made 6in4 packets (IPv4 protocol 41), for the e2e tests.

    send6in4.py --from 10.0.3.2 --to 10.0.1.2 --inner-src 2001:db8:ff::99 \
        --inner-dst 2001:db8:1::2 [--count 5] [--garbage]

Each packet carries an ICMPv6 echo request (id 0x6e41, checksum computed)
from --inner-src to --inner-dst, or with --garbage 48 bytes that are not an
IPv6 packet. The kernel writes the outer IPv4 header from a raw socket
bound to --from.
"""
import argparse
import socket
import struct


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def echo_request(src, dst, seq):
    payload = b"manta-6in4-test"
    icmp = struct.pack("!BBHHH", 128, 0, 0, 0x6E41, seq) + payload
    s, d = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    pseudo = s + d + struct.pack("!I3xB", len(icmp), 58)
    icmp = icmp[:2] + struct.pack("!H", checksum(pseudo + icmp)) + icmp[4:]
    hdr = struct.pack("!IHBB", 6 << 28, len(icmp), 58, 64) + s + d
    return hdr + icmp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="src", required=True)
    ap.add_argument("--to", dest="dst", required=True)
    ap.add_argument("--inner-src", default="2001:db8:ff::99")
    ap.add_argument("--inner-dst", default="2001:db8:1::2")
    ap.add_argument("--count", type=int, default=5)
    ap.add_argument("--garbage", action="store_true")
    args = ap.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 41)
    s.bind((args.src, 0))
    for seq in range(args.count):
        pkt = b"\x45" * 48 if args.garbage else echo_request(args.inner_src, args.inner_dst, seq)
        s.sendto(pkt, (args.dst, 0))


if __name__ == "__main__":
    main()
