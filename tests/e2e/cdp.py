#!/usr/bin/env python3
"""cdp.py - drive a headless Chromium over the Chrome DevTools Protocol.

No Playwright or websocket module is assumed: this speaks just enough of
RFC 6455 (client frames, masked; text and continuation frames back) to send
CDP commands to the first page of a Chromium started with
--remote-debugging-port.  Each call is one short connection, so a bash test
can drive the browser step by step:

  cdp.py PORT goto URL            navigate and wait for the page to load
  cdp.py PORT eval JS             print the value of JS (strings as is)
  cdp.py PORT submit JS           run JS that submits a form; wait for the next page
  cdp.py PORT screenshot FILE     save a PNG of the page
"""
import base64
import json
import os
import socket
import struct
import sys
import time
import urllib.request


def page_ws_path(port):
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as r:
                for t in json.load(r):
                    if t.get("type") == "page":
                        url = t["webSocketDebuggerUrl"]
                        return url.split(f":{port}", 1)[1]
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit("cdp.py: no page to drive")


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET {page_ws_path(port)} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(req.encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                sys.exit("cdp.py: websocket handshake failed")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            sys.exit("cdp.py: websocket refused: " + head.decode(errors="replace"))
        self.next_id = 0

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                sys.exit("cdp.py: connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send(self, text):
        data = text.encode()
        head = bytes([0x81])
        n = len(data)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 1 << 16:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _message(self):
        payload = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            data = self._read(n)
            op = b0 & 0x0F
            if op in (0x8,):
                sys.exit("cdp.py: websocket closed by the browser")
            if op in (0x9, 0xA):
                continue
            payload += data
            if b0 & 0x80:
                return json.loads(payload)

    def call(self, method, **params):
        self.next_id += 1
        self._send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = self._message()
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    sys.exit(f"cdp.py: {method}: {msg['error']}")
                return msg["result"]

    def evaluate(self, js):
        r = self.call("Runtime.evaluate", expression=js, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            sys.exit("cdp.py: " + json.dumps(r["exceptionDetails"]))
        return r["result"].get("value")

    def wait_loaded(self, marker_gone=False):
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                state = self.evaluate(
                    "(window.__ggOld ? 'old' : document.readyState)" if marker_gone
                    else "document.readyState")
            except SystemExit:
                state = None
            if state == "complete":
                return
            time.sleep(0.05)
        sys.exit("cdp.py: the page did not load")


def main():
    port, cmd, arg = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    c = Conn(port)
    if cmd == "goto":
        c.evaluate("window.__ggOld = true")
        c.call("Page.navigate", url=arg)
        c.wait_loaded(marker_gone=True)
    elif cmd == "eval":
        v = c.evaluate(arg)
        print(v if isinstance(v, str) else json.dumps(v))
    elif cmd == "submit":
        c.evaluate("window.__ggOld = true")
        c.evaluate(f"setTimeout(() => {{ {arg} }}, 0); true")
        c.wait_loaded(marker_gone=True)
    elif cmd == "screenshot":
        r = c.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        with open(arg, "wb") as f:
            f.write(base64.b64decode(r["data"]))
    else:
        sys.exit("cdp.py: unknown command " + cmd)


if __name__ == "__main__":
    main()
