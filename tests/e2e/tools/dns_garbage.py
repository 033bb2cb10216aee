#!/usr/bin/env python3
"""Throw malformed DNS at a resolver: random datagrams, truncated and
mutated copies of a valid query, and random bytes over TCP (length-prefixed
and not). Bounded in count and time; prints how many of each went out.

    dns_garbage.py ADDRESS [COUNT]
"""
import os
import random
import socket
import struct
import sys

addr = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
rng = random.Random(int.from_bytes(os.urandom(8), "little"))

# A valid query for bob.home.pi A, with EDNS, to mutate.
q = bytes.fromhex("12340100000100000000000103626f6204686f6d65027069000001000100"
                  "0029100000000000000000")

u = socket.socket(fam, socket.SOCK_DGRAM)
sent = 0
for i in range(count):
    kind = i % 4
    if kind == 0:
        msg = os.urandom(rng.randrange(0, 600))
    elif kind == 1:
        msg = q[: rng.randrange(0, len(q))]
    elif kind == 2:
        b = bytearray(q)
        for _ in range(rng.randrange(1, 6)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        msg = bytes(b)
    else:
        # header claims many records; compression pointers that loop
        msg = struct.pack(">HHHHHH", i & 0xFFFF, 0x0100, rng.randrange(65536), 65535, 65535,
                          65535) + b"\xc0\x0c" * rng.randrange(1, 40)
    try:
        u.sendto(msg, (addr, 53))
        sent += 1
    except OSError:
        pass

tcp = 0
for i in range(40):
    try:
        t = socket.create_connection((addr, 53), timeout=2)
        if i % 2:
            body = os.urandom(rng.randrange(1, 300))
            t.sendall(struct.pack(">H", len(body)) + body)
        else:
            t.sendall(os.urandom(rng.randrange(1, 300)))
        t.close()
        tcp += 1
    except OSError:
        pass
print(f"udp {sent} tcp {tcp}")
