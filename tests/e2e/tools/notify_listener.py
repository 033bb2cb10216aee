#!/usr/bin/env python3
"""notify_listener.py SOCKET LOG: a stand-in for systemd's notification
socket (sd_notify(3)), for tests that run mantad outside systemd.

Binds an AF_UNIX datagram socket at SOCKET, mode 0666 so that a daemon
running as another user may send to it, writes `listening` to LOG, then
appends each message it receives: one line `message from PID` (the sender's
pid, from SO_PASSCRED, as systemd's NotifyAccess=main checks it), then the
message's assignments one per line. Runs until it is killed."""
import os
import socket
import struct
import sys

path, log = sys.argv[1], sys.argv[2]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
sock.bind(path)
os.chmod(path, 0o666)
with open(log, "a", buffering=1) as out:
    out.write("listening\n")
    while True:
        data, anc, _, _ = sock.recvmsg(65536, socket.CMSG_SPACE(12))
        pid = 0
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", payload[:12])[0]
        out.write("message from %d\n" % pid)
        for line in data.decode("utf-8", "replace").split("\n"):
            if line:
                out.write(line + "\n")
