#!/usr/bin/env python3
"""The tunnel broker's end of a 6in4 tunnel (RFC 4213), for the e2e tests:
an implementation independent of manta's C, so the tests show interop.

    broker6in4.py --local 10.0.1.1 --client 10.0.1.2 --tun he-srv

Creates the TUN device (IFF_TUN | IFF_NO_PI; the caller gives it addresses
and routes with ip(8)), then forwards:

  TUN -> client  each IPv6 packet, sent on a raw IPv4 socket of protocol 41
                 (the kernel writes the outer IPv4 header)
  client -> TUN  protocol 41 from --client to --local: the IPv4 header is
                 stripped and the inner IPv6 packet written to the TUN;
                 anything from another source is counted and dropped.

Prints one line per counter change of interest to stderr; SIGTERM ends it.
"""
import argparse
import fcntl
import os
import select
import signal
import socket
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    ifr = struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI)
    fcntl.ioctl(fd, TUNSETIFF, ifr)
    os.set_blocking(fd, False)
    return fd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--local", required=True, help="the broker's IPv4 address")
    ap.add_argument("--client", required=True, help="the tunnel client's IPv4 address")
    ap.add_argument("--tun", default="he-srv")
    ap.add_argument("--ready", help="a file to create once the TUN exists")
    args = ap.parse_args()

    tun = open_tun(args.tun)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, 41)
    raw.bind((args.local, 0))
    raw.setblocking(False)
    client = socket.inet_aton(args.client)
    stats = {"to_client": 0, "from_client": 0, "wrong_source": 0, "not_v6": 0}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.ready:
        open(args.ready, "w").close()
    print(f"broker6in4: {args.tun} {args.local} <-> {args.client}", file=sys.stderr, flush=True)

    while True:
        r, _, _ = select.select([tun, raw], [], [])
        if tun in r:
            try:
                pkt = os.read(tun, 65535)
            except BlockingIOError:
                pkt = b""
            if pkt and pkt[0] >> 4 == 6:
                raw.sendto(pkt, (args.client, 0))
                stats["to_client"] += 1
        if raw in r:
            try:
                pkt = raw.recv(65535)
            except BlockingIOError:
                continue
            ihl = (pkt[0] & 0x0F) * 4
            if pkt[12:16] != client:
                stats["wrong_source"] += 1
                print(f"broker6in4: dropped protocol 41 from {socket.inet_ntoa(pkt[12:16])}"
                      f" ({stats['wrong_source']})", file=sys.stderr, flush=True)
                continue
            inner = pkt[ihl:]
            if len(inner) < 40 or inner[0] >> 4 != 6:
                stats["not_v6"] += 1
                continue
            os.write(tun, inner)
            stats["from_client"] += 1
            if stats["from_client"] in (1, 10, 100, 1000):
                print(f"broker6in4: {stats}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
