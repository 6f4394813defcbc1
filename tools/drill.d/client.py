#!/usr/bin/env python3
"""Load and slow clients of tools/drill (loopback only, bounded).

  client.py ids HOST PORT SECS CONNS OUT [header ...]
      CONNS keep-alive HTTPS connections, each sending GET PATH (env
      DRILL_PATH) with an X-Drill-Id (c<conn>-<seq>) for SECS seconds;
      every answer is written to OUT as "id status unix_time_of_answer";
      prints a summary:
      "ids sent=N answered=N errors=N s200=N ...".
  client.py probe HOST PORT SECS OUT [header ...]
      one keep-alive connection, GET PATH every 50 ms for SECS seconds;
      OUT gets "ms_since_start status latency_s" lines.
  client.py recount HOST PORT REDIS_PORT KEY SECS [header ...]
      after a Redis fault: a request on one keep-alive connection, then
      HVALS KEY in Redis, again until the units grow; prints the ms it
      took ("recount_ms=N", -1 when not within SECS).
  client.py slowloris HOST PORT CONNS SECS
      CONNS TLS connections sending a request header one byte a second;
      prints when nginx closed them: "slowloris conns=N closed=N
      first_close_s=X last_close_s=Y status=..."
  client.py slowbody HOST PORT PATH DRIP WAIT
      one webhook POST whose body comes at one byte a second for DRIP
      seconds, then stops; prints when nginx closed it (seconds after the
      last byte, close_after_s) and whether anything was answered.
  client.py idle HOST PORT CONNS SECS
      CONNS TCP connections that send nothing.
"""
import os
import socket
import ssl
import sys
import threading
import time
import http.client
import resource


def tls_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def parse_headers(args):
    h = {}
    for a in args:
        k, v = a.split(":", 1)
        h[k.strip()] = v.strip()
    return h


def cmd_ids(host, port, secs, conns, out, hdr_args):
    headers = parse_headers(hdr_args)
    path = os.environ.get("DRILL_PATH", "/fhir/Patient/123")
    deadline = time.time() + float(secs)
    lock = threading.Lock()
    res = {"sent": 0, "answered": 0, "errors": 0, "codes": {}}
    lines = []

    def worker(n):
        ctx = tls_ctx()
        seq = 0
        c = None
        while time.time() < deadline:
            if c is None:
                c = http.client.HTTPSConnection(host, port, context=ctx,
                                                timeout=5)
            seq += 1
            rid = "c%d-%d" % (n, seq)
            h = dict(headers)
            h["X-Drill-Id"] = rid
            try:
                c.request("GET", path, headers=h)
                with lock:
                    res["sent"] += 1
                r = c.getresponse()
                r.read()
                st = r.status
                if r.getheader("Connection", "").lower() == "close":
                    c.close()
                    c = None
            except (OSError, http.client.HTTPException):
                with lock:
                    res["errors"] += 1
                try:
                    c.close()
                except Exception:
                    pass
                c = None
                time.sleep(0.01)
                continue
            with lock:
                res["answered"] += 1
                res["codes"][st] = res["codes"].get(st, 0) + 1
                lines.append("%s %d %.6f\n" % (rid, st, time.time()))

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    with open(out, "w") as f:
        f.writelines(lines)
    codes = " ".join("s%d=%d" % (k, v) for k, v in sorted(res["codes"].items()))
    print("ids sent=%d answered=%d errors=%d %s"
          % (res["sent"], res["answered"], res["errors"], codes))


def cmd_probe(host, port, secs, out, hdr_args):
    headers = parse_headers(hdr_args)
    path = os.environ.get("DRILL_PATH", "/fhir/Patient/123")
    start = time.time()
    c = None
    with open(out, "w") as f:
        while time.time() - start < secs:
            t = time.time()
            try:
                if c is None:
                    c = http.client.HTTPSConnection(host, port,
                                                    context=tls_ctx(),
                                                    timeout=2)
                    c.connect()
                    t = time.time()
                c.request("GET", path, headers=headers)
                r = c.getresponse()
                r.read()
                st = r.status
            except (OSError, http.client.HTTPException):
                st = 0
                c = None
            f.write("%d %d %.4f\n" % ((t - start) * 1000, st,
                                      time.time() - t))
            time.sleep(0.05)


def redis_units(port, key):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
    except OSError:
        return -1
    k = key.encode()
    s.sendall(b"*2\r\n$5\r\nHVALS\r\n$%d\r\n%s\r\n" % (len(k), k))
    data = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
            lines = data.split(b"\r\n")
            if lines[0].startswith(b"*"):
                n = int(lines[0][1:])
                if n <= 0 or len(lines) >= 2 * n + 2:
                    break
            elif lines[0][:1] in (b"-", b"+", b":") and len(lines) > 1:
                return -1
    except OSError:
        return -1
    finally:
        s.close()
    lines = data.split(b"\r\n")
    return sum(int(x) for x in lines[2::2] if x.strip().isdigit())


def cmd_recount(host, port, rport, key, secs, hdr_args):
    headers = parse_headers(hdr_args)
    start = time.time()
    n0 = max(redis_units(rport, key), 0)
    c = None
    while time.time() - start < secs:
        try:
            if c is None:
                c = http.client.HTTPSConnection(host, port,
                                                context=tls_ctx(), timeout=2)
            c.request("GET", "/fhir/Patient/123", headers=headers)
            r = c.getresponse()
            r.read()
        except (OSError, http.client.HTTPException):
            c = None
        if redis_units(rport, key) > n0:
            print("recount_ms=%d" % ((time.time() - start) * 1000))
            return
        time.sleep(0.02)
    print("recount_ms=-1")


def wait_closed(socks, secs, drip):
    """Drip one byte a second into each socket (drip: bytes), note when
    nginx closes it.  Returns close times (s from start) and first lines."""
    start = time.time()
    closed = {}
    first = {}
    i = 0
    wait_closed.last_send = start
    while time.time() - start < secs and len(closed) < len(socks):
        for k, s in enumerate(socks):
            if k in closed:
                continue
            try:
                if drip is not None and i < len(drip):
                    s.send(drip[i:i + 1])
                    wait_closed.last_send = time.time()
                s.settimeout(0.0)
                try:
                    d = s.recv(4096)
                    if d == b"":
                        closed[k] = time.time() - start
                    else:
                        first.setdefault(k, d.split(b"\r\n", 1)[0].decode(
                            "latin1"))
                except (BlockingIOError, ssl.SSLWantReadError):
                    pass
                finally:
                    s.settimeout(5)
            except OSError:
                closed[k] = time.time() - start
        i += 1
        time.sleep(1.0 if drip is not None else 0.2)
    return closed, first


def report(name, n, closed, first):
    t = sorted(closed.values())
    st = sorted(set(first.values()))
    print("%s conns=%d closed=%d first_close_s=%.1f last_close_s=%.1f "
          "answers=%s" % (name, n, len(t), t[0] if t else -1,
                          t[-1] if t else -1, ";".join(st) or "none"))


def tls_socks(host, port, n):
    ctx = tls_ctx()
    out = []
    for _ in range(n):
        s = socket.create_connection((host, port), timeout=5)
        out.append(ctx.wrap_socket(s, server_hostname="localhost"))
    return out


def cmd_slowloris(host, port, conns, secs):
    socks = tls_socks(host, port, conns)
    drip = (b"GET /fhir/metadata HTTP/1.1\r\nHost: localhost\r\n"
            b"X-Slow: " + b"a" * 4096)
    closed, first = wait_closed(socks, secs, drip)
    report("slowloris", conns, closed, first)


def cmd_slowbody(host, port, path, drip, wait):
    socks = tls_socks(host, port, 1)
    body = b'{"id":"evt_slow","type":"x"}' + b" " * 200
    t = int(time.time())
    socks[0].send(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: localhost"
                  b"\r\nContent-Type: application/json\r\nStripe-Signature: "
                  b"t=%d,v1=00\r\nContent-Length: %d\r\n\r\n" % (t, len(body)))
    closed, first = wait_closed(socks, drip, body[:int(drip)])
    last = wait_closed.last_send
    if closed:
        print("slowbody closed while sending, after %.1fs answers=%s"
              % (closed[0], ";".join(first.values()) or "none"))
        return
    t0 = time.time()
    closed, first2 = wait_closed(socks, wait, b"")
    first.update(first2)
    print("slowbody drip_s=%d closed=%d close_after_s=%.1f answers=%s"
          % (drip, len(closed), closed[0] + t0 - last if closed else -1,
             ";".join(first.values()) or "none"))


def cmd_idle(host, port, conns, secs):
    socks = []
    for _ in range(conns):
        s = socket.create_connection((host, port), timeout=5)
        socks.append(s)
    closed, first = wait_closed(socks, secs, None)
    report("idle", conns, closed, first)


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    a = sys.argv[1:]
    if a[0] == "ids":
        cmd_ids(a[1], int(a[2]), a[3], int(a[4]), a[5], a[6:])
    elif a[0] == "recount":
        cmd_recount(a[1], int(a[2]), int(a[3]), a[4], float(a[5]), a[6:])
    elif a[0] == "probe":
        cmd_probe(a[1], int(a[2]), float(a[3]), a[4], a[5:])
    elif a[0] == "slowloris":
        cmd_slowloris(a[1], int(a[2]), int(a[3]), float(a[4]))
    elif a[0] == "slowbody":
        cmd_slowbody(a[1], int(a[2]), a[3], float(a[4]), float(a[5]))
    elif a[0] == "idle":
        cmd_idle(a[1], int(a[2]), int(a[3]), float(a[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
