#!/usr/bin/env python3
"""A one-connection TCP sink and sender for the transfer tests.

    tcp_xfer.py sink ADDR PORT RESULT   accept one connection on ADDR:PORT, read
                                        to EOF, then write "SHA256 BYTES" to RESULT
                                        (atomically: RESULT appears only when done)
    tcp_xfer.py send ADDR PORT FILE     connect, send FILE, close; print "SHA256 BYTES"

ADDR may be IPv4 or IPv6 (no brackets).
"""
import hashlib
import os
import socket
import sys


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def sink(addr, port, result):
    with socket.socket(family(addr), socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(1)
        conn, _ = s.accept()
        h, n = hashlib.sha256(), 0
        with conn:
            while True:
                chunk = conn.recv(1 << 16)
                if not chunk:
                    break
                h.update(chunk)
                n += len(chunk)
    with open(result + ".tmp", "w") as f:
        f.write(f"{h.hexdigest()} {n}\n")
    os.rename(result + ".tmp", result)


def send(addr, port, path):
    h, n = hashlib.sha256(), 0
    with socket.create_connection((addr, port), timeout=60) as s, open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 16)
            if not chunk:
                break
            s.sendall(chunk)
            h.update(chunk)
            n += len(chunk)
        s.shutdown(socket.SHUT_WR)
        s.recv(1)  # wait for the sink to close: everything was read
    print(f"{h.hexdigest()} {n}")


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("sink", "send"):
        sys.exit(__doc__.strip())
    mode, addr, port, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    (sink if mode == "sink" else send)(addr, port, path)


if __name__ == "__main__":
    main()
