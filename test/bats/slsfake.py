#!/usr/bin/env python3
"""slsfake.py -- an SRT Live Server statistics endpoint for the srt scenario.

Serves GET /stats/<player id>?legacy=1 with a recorded SLS document
(test/fixtures/srt/sls-1.json) whose counters advance at every request, so
that each interval the sampler measures has its own loss:

  request n = 1, 2, ...   pktRcvLoss += LOSS_STEP[n % 5], pktRcvDrop += 1
  request RESET_AT        counters start again from sls-reset.json's
                          (the publisher reconnected)

and "rtt" is n, so a stored srt.rtt_ms names the request it came from.
Every answer is appended to LOG as "n pktRcvLoss pktRcvDrop mbpsRecvRate
path", which is what the scenario computes the expected loss from.  Any
other path gets 404.  The port (bound by the kernel) is written to
PORTFILE once the server listens.

usage: slsfake.py FIXTURE_DIR PORTFILE LOG
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

LOSS_STEP = [50, 0, 13, 200, 7]
RESET_AT = 5


class State:
    def __init__(self, fixtures):
        with open(os.path.join(fixtures, "sls-1.json")) as f:
            self.doc = json.load(f)
        with open(os.path.join(fixtures, "sls-reset.json")) as f:
            self.reset = json.load(f)["publishers"]["live"]
        self.n = 0


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        st = self.server.state
        if not (self.path.startswith("/stats/") and "legacy=1" in self.path):
            self.send_error(404)
            return
        st.n += 1
        live = st.doc["publishers"]["live"]
        if st.n == RESET_AT:
            live.update(st.reset)
        elif st.n > 1:
            live["pktRcvLoss"] += LOSS_STEP[st.n % len(LOSS_STEP)]
            live["pktRcvDrop"] += 1
        live["rtt"] = st.n
        body = json.dumps(st.doc).encode()
        with open(self.server.log, "a") as f:
            f.write("%d %d %d %r %s\n" % (st.n, live["pktRcvLoss"],
                    live["pktRcvDrop"], live["mbpsRecvRate"], self.path))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    srv = HTTPServer(("127.0.0.1", 0), Handler)
    srv.state = State(sys.argv[1])
    srv.log = sys.argv[3]
    tmp = sys.argv[2] + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, sys.argv[2])
    srv.serve_forever()


if __name__ == "__main__":
    main()
