#!/usr/bin/env python3
"""List or re-send the UDP payloads of a pcap file (standard library only).

    udp_replay.py FILE --list [FILTERS]            one line per UDP datagram
    udp_replay.py FILE --count [FILTERS]           how many datagrams match
    udp_replay.py FILE --send IP:PORT [FILTERS]    re-send each payload, in order,
                                                   from an ephemeral port;
                                                   prints how many were sent
FILTERS:
    --type N        first payload byte (WireGuard: 1 initiation, 2 response,
                    3 cookie reply, 4 transport data)
    --src IP        datagrams from this address
    --dst IP        datagrams to this address
    --sport PORT / --dport PORT
    --max N         at most N datagrams (the first N that match)

IP:PORT is `192.0.2.1:51820` or `[2001:db8::1]:51820`. Reads classic pcap as
`tcpdump -w` writes it (either byte order, micro- or nanosecond stamps) with
Ethernet, Linux cooked (v1/v2), raw IP or BSD loopback framing. IP fragments
and IPv6 extension headers other than none are skipped.
"""
import argparse
import ipaddress
import socket
import struct
import sys

LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_RAW = 0, 1, 101
LINKTYPE_RAW_OLD, LINKTYPE_SLL, LINKTYPE_SLL2 = 12, 113, 276
ETH_P_IP, ETH_P_IPV6, ETH_P_8021Q = 0x0800, 0x86DD, 0x8100


def records(path):
    """Yield (timestamp, link type, frame) for each packet in the file."""
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            return  # empty capture (tcpdump killed before writing anything)
        magic = head[:4]
        for endian in ("<", ">"):
            (m,) = struct.unpack(endian + "I", magic)
            if m in (0xA1B2C3D4, 0xA1B23C4D):
                break
        else:
            sys.exit(f"udp_replay.py: {path}: not a pcap file (pcapng is not supported)")
        frac = 1e9 if m == 0xA1B23C4D else 1e6
        (linktype,) = struct.unpack(endian + "I", head[20:24])
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            sec, sub, incl, _orig = struct.unpack(endian + "IIII", rec)
            data = f.read(incl)
            if len(data) < incl:
                return  # truncated last record of a capture still being written
            yield sec + sub / frac, linktype & 0xFFFF, data


def network_layer(linktype, frame):
    """Return (ethertype, packet) for the IP packet inside a frame."""
    if linktype == LINKTYPE_ETHERNET:
        proto, off = struct.unpack("!H", frame[12:14])[0], 14
        while proto == ETH_P_8021Q and len(frame) >= off + 4:
            proto, off = struct.unpack("!H", frame[off + 2:off + 4])[0], off + 4
        return proto, frame[off:]
    if linktype == LINKTYPE_SLL:
        return struct.unpack("!H", frame[14:16])[0], frame[16:]
    if linktype == LINKTYPE_SLL2:
        return struct.unpack("!H", frame[0:2])[0], frame[20:]
    if linktype in (LINKTYPE_RAW, LINKTYPE_RAW_OLD):
        version = frame[0] >> 4 if frame else 0
        return {4: ETH_P_IP, 6: ETH_P_IPV6}.get(version, 0), frame
    if linktype == LINKTYPE_NULL:
        family = struct.unpack("=I", frame[:4])[0]
        return (ETH_P_IP if family == 2 else ETH_P_IPV6), frame[4:]
    sys.exit(f"udp_replay.py: link type {linktype} is not supported")


def udp_datagram(proto, pkt):
    """Return (src, dst, sport, dport, payload) or None if not a whole UDP datagram."""
    if proto == ETH_P_IP and len(pkt) >= 20 and pkt[0] >> 4 == 4:
        ihl = (pkt[0] & 0x0F) * 4
        frag = struct.unpack("!H", pkt[6:8])[0]
        if pkt[9] != 17 or frag & 0x3FFF:
            return None
        total = struct.unpack("!H", pkt[2:4])[0]
        src, dst, udp = pkt[12:16], pkt[16:20], pkt[ihl:total]
    elif proto == ETH_P_IPV6 and len(pkt) >= 40 and pkt[0] >> 4 == 6:
        if pkt[6] != 17:
            return None
        plen = struct.unpack("!H", pkt[4:6])[0]
        src, dst, udp = pkt[8:24], pkt[24:40], pkt[40:40 + plen]
    else:
        return None
    if len(udp) < 8:
        return None
    sport, dport, ulen = struct.unpack("!HHH", udp[:6])
    if ulen < 8 or ulen > len(udp):
        return None  # snapped short: the payload is not whole
    return (ipaddress.ip_address(src), ipaddress.ip_address(dst), sport, dport,
            bytes(udp[8:ulen]))


def datagrams(args):
    n = 0
    for ts, linktype, frame in records(args.file):
        d = udp_datagram(*network_layer(linktype, frame))
        if d is None:
            continue
        src, dst, sport, dport, payload = d
        if args.type is not None and (not payload or payload[0] != args.type):
            continue
        if args.src and src != args.src or args.dst and dst != args.dst:
            continue
        if args.sport and sport != args.sport or args.dport and dport != args.dport:
            continue
        if args.max is not None and n >= args.max:
            return
        n += 1
        yield ts, src, dst, sport, dport, payload


def hostport(text):
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
    else:
        host, _, port = text.rpartition(":")
    try:
        return ipaddress.ip_address(host), int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not IP:PORT or [IPv6]:PORT: `{text}'")


def endpoint_text(addr, port):
    return f"[{addr}]:{port}" if addr.version == 6 else f"{addr}:{port}"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("file")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--list", action="store_true")
    mode.add_argument("--count", action="store_true")
    mode.add_argument("--send", type=hostport, metavar="IP:PORT")
    p.add_argument("--type", type=int)
    p.add_argument("--src", type=ipaddress.ip_address)
    p.add_argument("--dst", type=ipaddress.ip_address)
    p.add_argument("--sport", type=int)
    p.add_argument("--dport", type=int)
    p.add_argument("--max", type=int)
    args = p.parse_args()

    if args.list:
        for ts, src, dst, sport, dport, payload in datagrams(args):
            kind = payload[0] if payload else "-"
            print(f"{ts:.6f} {endpoint_text(src, sport)} > {endpoint_text(dst, dport)} "
                  f"type {kind} len {len(payload)}")
    elif args.count:
        print(sum(1 for _ in datagrams(args)))
    else:
        addr, port = args.send
        family = socket.AF_INET6 if addr.version == 6 else socket.AF_INET
        sent = 0
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            for *_, payload in datagrams(args):
                s.sendto(payload, (str(addr), port))
                sent += 1
        print(sent)


if __name__ == "__main__":
    main()
