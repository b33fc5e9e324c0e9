#!/usr/bin/env python3
# upload_stub.py -- a stand-in for the receiver's status-code behaviour, for
# the upload scenarios only: it answers what the test tells it to, so a test
# can make the "receiver" fail, refuse or reject a credential on demand.
# It is not a receiver: it stores nothing but a log of what it was sent.
#
#   upload_stub.py DIR
#
# DIR/port      written once listening (an ephemeral port on 127.0.0.1)
# DIR/mode      read at every request: a status ("503", "400", "429 7" =
#               429 with Retry-After: 7); missing or "ok" means 200
# DIR/token     if present, requests must carry "Authorization: Bearer
#               <its first line>", else 401
# DIR/requests  one line per request: status content-type encoding
#               samples body-bytes client-port (the same port: keep-alive)
# DIR/samples   for 2xx JSON bodies, one line per metric: name ts value
import gzip, json, os, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

D = sys.argv[1]


def read(name, default=None):
    try:
        with open(os.path.join(D, name)) as f:
            return f.read().strip()
    except OSError:
        return default


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        enc = self.headers.get("Content-Encoding", "-")
        ctype = self.headers.get("Content-Type", "-")
        if enc == "gzip":
            body = gzip.decompress(body)
        mode = (read("mode", "ok") or "ok").split()
        status = 200 if mode[0] == "ok" else int(mode[0])
        token = read("token")
        if token is not None and self.headers.get("Authorization") != "Bearer " + token.splitlines()[0]:
            status = 401
        metrics = []
        if ctype == "application/json":
            metrics = json.loads(body)["metrics"]
        if 200 <= status < 300:
            with open(os.path.join(D, "samples"), "a") as f:
                for m in metrics:
                    f.write("%s%s %s %r\n" % (m["name"], json.dumps(m.get("labels", {}), sort_keys=True).replace(" ", ""), m["timestamp"], m["value"]))
            out = {"success": True, "received": len(metrics)}
        else:
            out = {"error": "stub says %d" % status, "field": "metrics"}
        with open(os.path.join(D, "requests"), "a") as f:
            f.write("%d %s %s %d %d %d\n" % (status, ctype, enc, len(metrics), len(body), self.client_address[1]))
        data = json.dumps(out).encode()
        self.send_response(status)
        if len(mode) > 1:
            self.send_header("Retry-After", mode[1])
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


s = ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(os.path.join(D, "port.tmp"), "w") as f:
    f.write(str(s.server_address[1]))
os.rename(os.path.join(D, "port.tmp"), os.path.join(D, "port"))
s.serve_forever()
