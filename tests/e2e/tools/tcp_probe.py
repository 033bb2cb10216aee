#!/usr/bin/env python3
"""A TCP service and a client that says what happened to its connection.

    tcp_probe.py serve PORT [PORT...]    accept on [::]:PORT (IPv4 too), answer each
                                         connection with "hello PORT\\n", close; forever
    tcp_probe.py connect ADDR PORT [SECONDS]
                                         one connection attempt (default 3 s); prints
                                         ok, refused, timeout or error: ...; exit 0 only
                                         for ok, 1 otherwise
"""
import select
import socket
import sys
import time


def serve(ports):
    socks = []
    for port in ports:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", port))
        s.listen(16)
        socks.append((s, port))
    print("listening", " ".join(str(p) for p in ports), flush=True)
    while True:
        ready, _, _ = select.select([s for s, _ in socks], [], [])
        for s, port in socks:
            if s in ready:
                conn, _ = s.accept()
                with conn:
                    conn.sendall(b"hello %d\n" % port)


def connect(addr, port, secs):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    start = time.monotonic()
    try:
        with socket.socket(fam, socket.SOCK_STREAM) as s:
            s.settimeout(secs)
            s.connect((addr, port))
            data = s.recv(64)
        ok = data.startswith(b"hello")
        print("ok" if ok else "error: got %r" % data, "%.3f" % (time.monotonic() - start))
        return 0 if ok else 1
    except ConnectionRefusedError:
        print("refused", "%.3f" % (time.monotonic() - start))
    except socket.timeout:
        print("timeout", "%.3f" % (time.monotonic() - start))
    except OSError as e:
        print("error:", e.strerror or e, "%.3f" % (time.monotonic() - start))
    return 1


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "serve":
        serve([int(p) for p in sys.argv[2:]])
    elif len(sys.argv) in (4, 5) and sys.argv[1] == "connect":
        secs = float(sys.argv[4]) if len(sys.argv) == 5 else 3.0
        sys.exit(connect(sys.argv[2], int(sys.argv[3]), secs))
    else:
        sys.exit(__doc__.strip())


if __name__ == "__main__":
    main()
