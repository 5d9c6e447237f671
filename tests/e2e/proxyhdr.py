#!/usr/bin/env python3
"""proxyhdr.py - a PROXY protocol client for ssh's ProxyCommand (tests only).

    ssh -o ProxyCommand='python3 proxyhdr.py MODE CLIENT_IP %h %p [BIND_ADDR]' ...

connects to HOST:PORT (from BIND_ADDR when given), writes a PROXY header that
names CLIENT_IP as the client, then relays stdin/stdout to the socket as a
load balancer would.  MODE: v1, v2 (TCP over IPv4 or IPv6 after CLIENT_IP),
v1-unknown, v2-local, none (no header), malformed (a broken v1 line).
PROXYHDR_RATE=N in the environment limits what it relays to the client to
about N bytes a second, PROXYHDR_UPRATE=N what it relays from the client;
PROXYHDR_PIDFILE=FILE gets its process id (to cut the connection).
"""
import ipaddress
import os
import select
import socket
import struct
import sys
import time

V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def header(mode, client, dst, dport):
    if mode == "none":
        return b""
    ip = ipaddress.ip_address(client)
    if mode == "v1":
        fam = "TCP4" if ip.version == 4 else "TCP6"
        d = dst if ip.version == 4 else "::1"
        return f"PROXY {fam} {client} {d} 50000 {dport}\r\n".encode()
    if mode == "v1-unknown":
        return b"PROXY UNKNOWN\r\n"
    if mode == "malformed":
        return f"PROXY TCP4 {client}\r\n".encode()
    if mode == "v2":
        if ip.version == 4:
            body = ip.packed + ipaddress.ip_address(dst).packed + struct.pack("!HH", 50000, dport)
            fam = 0x11
        else:
            body = ip.packed + ipaddress.ip_address("::1").packed + struct.pack("!HH", 50000, dport)
            fam = 0x21
        body += b"\x04\x00\x02xx"  # a NOOP TLV, to be skipped
        return V2_SIG + bytes([0x21, fam]) + struct.pack("!H", len(body)) + body
    if mode == "v2-local":
        return V2_SIG + bytes([0x20, 0x00]) + struct.pack("!H", 0)
    raise SystemExit(f"proxyhdr.py: unknown mode {mode}")


def main():
    mode, client, host, port = sys.argv[1:5]
    bind = sys.argv[5] if len(sys.argv) > 5 else None
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if bind:
        s.bind((bind, 0))
    s.connect((host, int(port)))
    s.sendall(header(mode, client, host, int(port)))
    inp, out = sys.stdin.fileno(), sys.stdout.fileno()
    open_in = True
    # PROXYHDR_RATE=BYTES_PER_SECOND slows the server's side down (a slow clone).
    rate = int(os.environ.get("PROXYHDR_RATE", "0"))
    chunk = min(65536, max(1024, rate // 10)) if rate else 65536
    # PROXYHDR_UPRATE: the same for the client's side (a slow push).
    uprate = int(os.environ.get("PROXYHDR_UPRATE", "0"))
    upchunk = min(65536, max(1024, uprate // 10)) if uprate else 65536
    if os.environ.get("PROXYHDR_PIDFILE"):
        with open(os.environ["PROXYHDR_PIDFILE"], "w") as f:
            f.write(f"{os.getpid()}\n")
    while True:
        r, _, _ = select.select([s] + ([inp] if open_in else []), [], [])
        if s in r:
            data = s.recv(chunk)
            if not data:
                return
            os.write(out, data)
            if rate:
                time.sleep(len(data) / rate)
        if open_in and inp in r:
            data = os.read(inp, upchunk)
            if not data:
                s.shutdown(socket.SHUT_WR)
                open_in = False
            else:
                s.sendall(data)
                if uprate:
                    time.sleep(len(data) / uprate)


if __name__ == "__main__":
    try:
        main()
    except (BrokenPipeError, ConnectionResetError):
        pass
