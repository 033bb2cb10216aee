#!/usr/bin/env python3
"""Print the overlay addresses a public key derives, as DESIGN.md specifies.

    addresses.py PUBKEY [INDEX]     PUBKEY in base64 (44 characters) or hex

Line 1 is the IPv6 address, line 2 the IPv4 address (index 0 by default).
This is an independent reference in Python's standard library: the tests use
it to check what mantad and `manta addresses` report, and to give stock
WireGuard peers their addresses without needing mantad at all.
"""
import base64
import hashlib
import ipaddress
import struct
import sys

RESOLVER_V4 = ipaddress.IPv4Address("100.100.100.53")


def parse_key(text):
    try:
        raw = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        sys.exit(f"addresses.py: not a 32-byte key in base64 or hex: `{text}'")
    return raw


def ipv6_of(pk):
    d = hashlib.blake2b(b"manta v6 address" + pk, digest_size=32).digest()
    return ipaddress.IPv6Address(b"\x02" + d[:15])


def ipv4_of(pk, index=0):
    """The address for `index`, or None when DESIGN.md says to skip it."""
    d = hashlib.blake2b(b"manta v4 address" + pk + struct.pack("<I", index),
                        digest_size=32).digest()
    host = struct.unpack("<I", d[:4])[0] & 0x3FFFFF
    addr = ipaddress.IPv4Address(int(ipaddress.IPv4Address("100.64.0.0")) + host)
    if host in (0, 0x3FFFFF) or addr == RESOLVER_V4:
        return None
    return addr


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.strip())
    pk = parse_key(sys.argv[1])
    index = int(sys.argv[2]) if len(sys.argv) == 3 else 0
    v4 = ipv4_of(pk, index)
    while v4 is None:
        index += 1
        v4 = ipv4_of(pk, index)
    print(ipv6_of(pk))
    print(v4)


if __name__ == "__main__":
    main()
