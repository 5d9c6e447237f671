#!/usr/bin/env python3
"""fault_proxy.py LISTEN_PORT TARGET_PORT CONTROL_FILE - a TCP proxy on 127.0.0.1 that
misbehaves on demand, for tests/e2e/test_faults.sh and test_load.sh.

The control file is read when each connection arrives; its first line says what to do
with that connection:
  pass              forward both ways (also when the file is missing or empty)
  hang              accept, then never read, answer or close (a hung server)
  delay SECONDS     wait, then forward (a slow server)
  cut up|down N     forward until N bytes went client->server (up) or server->client
                    (down), then close both sides (a client or link that dies mid-stream)
  slow BYTES_PER_S  forward client->server at that rate (a slow upload)
When the target refuses the connection, the client's connection is closed at once.
"""
import socket
import sys
import threading
import time

listen_port, target_port, control = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
held = []


def mode():
    try:
        with open(control) as f:
            words = f.readline().split()
    except OSError:
        words = []
    return words or ["pass"]


def close(*socks):
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


def pump(src, dst, limit, rate, done):
    sent = 0
    start = time.monotonic()
    try:
        while True:
            want = 65536
            if limit is not None:
                want = min(want, limit - sent)
                if want <= 0:
                    break
            if rate:
                want = min(want, 16384)
            data = src.recv(want)
            if not data:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            dst.sendall(data)
            sent += len(data)
            if rate:
                ahead = sent / rate - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)
    except OSError:
        pass
    done.set()  # the limit was reached or a side failed: end the whole connection


def serve(c):
    m = mode()
    if m[0] == "hang":
        held.append(c)
        return
    if m[0] == "delay":
        time.sleep(float(m[1]))
    try:
        b = socket.create_connection(("127.0.0.1", target_port))
    except OSError:
        close(c)
        return
    up = down = None
    rate = None
    if m[0] == "cut":
        if m[1] == "up":
            up = int(m[2])
        else:
            down = int(m[2])
    elif m[0] == "slow":
        rate = int(m[1])
    done = threading.Event()
    t1 = threading.Thread(target=pump, args=(c, b, up, rate, done), daemon=True)
    t2 = threading.Thread(target=pump, args=(b, c, down, None, done), daemon=True)
    t1.start()
    t2.start()
    while t1.is_alive() or t2.is_alive():
        if done.wait(0.2):
            break
    close(c, b)


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", listen_port))
s.listen(512)
while True:
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
