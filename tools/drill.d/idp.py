#!/usr/bin/env python3
"""A stand-in identity provider for the JWKS drill (loopback only).

  idp.py PORT DIR

GET /jwks answers after DIR/mode: "ok" DIR/jwks.json, "down" resets the
connection, "slow" waits 10 s then answers, "garbage" a 200 that is not
JSON.  Every request is counted in DIR/fetches.
"""
import http.server
import os
import socket
import socketserver
import struct
import sys
import time

port, d = int(sys.argv[1]), sys.argv[2]


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        with open(os.path.join(d, "fetches"), "a") as f:
            f.write("%.3f\n" % time.time())
        try:
            mode = open(os.path.join(d, "mode")).read().strip()
        except OSError:
            mode = "ok"
        if mode == "down":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
            return
        if mode == "slow":
            time.sleep(10)
        if mode == "garbage":
            body = b"<html>502 oops</html>{not json"
        else:
            body = open(os.path.join(d, "jwks.json"), "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        try:
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass    # "slow": nginx gave up (proxy_read_timeout) first


class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


S(("127.0.0.1", port), H).serve_forever()
