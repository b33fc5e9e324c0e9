#!/usr/bin/env python3
"""rawpeer.py -- a misbehaving tern peer for the bats scenarios.

Connects to a writer's Unix socket, optionally says a valid HELLO (and waits
for the writer's HELLO back), then sends whatever bytes it is told to, and
prints what the writer answers, one line per frame, until the writer closes
the connection:

    HELLO role=writer name=tern-writer
    ERROR reason=<the writer's reason>
    closed by writer            (EOF or reset)
    closed by us                (--close: we hung up without reading)
    timeout                     (the writer kept the connection open)

Steps run in the order given:
    --hello                 a HELLO frame (see --role, --name, --version,
                            --hdr-version) and wait for the writer's HELLO
    --raw HEX               these bytes as they are
    --frame TYPE[:LEN]      a header of TYPE (number or name) claiming LEN
                            body bytes (default: the body's real length),
                            followed by the body given with --body
    --body HEX              the body for the next --frame (default: {})
    --samples DEVICE        the body for the next --frame: a valid SAMPLES
                            body of one point under DEVICE
    --close                 hang up at once, without reading

python3 has no msgpack module, so the few shapes needed here are encoded
and decoded by hand below.  The wire is documented in proto/frame.h.
"""

import argparse
import os
import socket
import struct
import sys

HDR = struct.Struct(">IHBBQ")	# length, type, version, flags, seq
TYPES = {
	"HELLO": 1, "ERROR": 2, "PING": 3, "PONG": 4, "STATS": 5,
	"LOGLEVEL": 6, "SAMPLES": 16, "ACK": 17, "FETCH": 32, "BATCH": 33,
	"DONE": 34, "TAP": 48,
}
NAMES = {v: k for k, v in TYPES.items()}


def mp_encode(o):
	"""msgpack for None, bool, int, float, str, bytes, list and dict."""
	if o is None:
		return b"\xc0"
	if o is True:
		return b"\xc3"
	if o is False:
		return b"\xc2"
	if isinstance(o, int):
		if 0 <= o <= 0x7f:
			return bytes([o])
		if -32 <= o < 0:
			return struct.pack("b", o)
		if o >= 0:
			return b"\xcf" + struct.pack(">Q", o)
		return b"\xd3" + struct.pack(">q", o)
	if isinstance(o, float):
		return b"\xcb" + struct.pack(">d", o)
	if isinstance(o, str):
		b = o.encode()
		if len(b) < 32:
			return bytes([0xa0 | len(b)]) + b
		return b"\xda" + struct.pack(">H", len(b)) + b
	if isinstance(o, bytes):
		return b"\xc5" + struct.pack(">H", len(o)) + o
	if isinstance(o, (list, tuple)):
		out = b"\xdc" + struct.pack(">H", len(o))
		return out + b"".join(mp_encode(x) for x in o)
	if isinstance(o, dict):
		out = b"\xde" + struct.pack(">H", len(o))
		for k, v in o.items():
			out += mp_encode(k) + mp_encode(v)
		return out
	raise TypeError(type(o))


def mp_decode(b, i=0):
	"""Decodes one object at b[i:]; returns (object, next index)."""
	c = b[i]
	i += 1
	if c <= 0x7f:
		return c, i
	if c >= 0xe0:
		return c - 256, i
	if 0x80 <= c <= 0x8f:
		return mp_map(b, i, c & 0x0f)
	if 0x90 <= c <= 0x9f:
		return mp_array(b, i, c & 0x0f)
	if 0xa0 <= c <= 0xbf:
		n = c & 0x1f
		return b[i:i + n].decode(errors="replace"), i + n
	fixed = {
		0xc0: (0, None), 0xc2: (0, False), 0xc3: (0, True),
	}
	if c in fixed:
		return fixed[c][1], i
	ints = {0xcc: ">B", 0xcd: ">H", 0xce: ">I", 0xcf: ">Q",
		0xd0: ">b", 0xd1: ">h", 0xd2: ">i", 0xd3: ">q",
		0xca: ">f", 0xcb: ">d"}
	if c in ints:
		f = struct.Struct(ints[c])
		return f.unpack_from(b, i)[0], i + f.size
	lens = {0xd9: (">B", "str"), 0xda: (">H", "str"), 0xdb: (">I", "str"),
		0xc4: (">B", "bin"), 0xc5: (">H", "bin"), 0xc6: (">I", "bin"),
		0xdc: (">H", "array"), 0xdd: (">I", "array"),
		0xde: (">H", "map"), 0xdf: (">I", "map")}
	if c in lens:
		f = struct.Struct(lens[c][0])
		n = f.unpack_from(b, i)[0]
		i += f.size
		kind = lens[c][1]
		if kind == "str":
			return b[i:i + n].decode(errors="replace"), i + n
		if kind == "bin":
			return bytes(b[i:i + n]), i + n
		if kind == "array":
			return mp_array(b, i, n)
		return mp_map(b, i, n)
	raise ValueError("msgpack byte 0x%02x not handled" % c)


def mp_array(b, i, n):
	out = []
	for _ in range(n):
		v, i = mp_decode(b, i)
		out.append(v)
	return out, i


def mp_map(b, i, n):
	out = {}
	for _ in range(n):
		k, i = mp_decode(b, i)
		v, i = mp_decode(b, i)
		out[k] = v
	return out, i


def header(ftype, length, version=1, flags=0, seq=0):
	return HDR.pack(length, ftype, version, flags, seq)


def recv_exact(s, n):
	"""n bytes, or None at EOF/reset before they all came."""
	buf = b""
	while len(buf) < n:
		try:
			chunk = s.recv(n - len(buf))
		except ConnectionResetError:
			return None
		if not chunk:
			return None
		buf += chunk
	return buf


def read_frame(s):
	"""(type, seq, body) of the next frame, or None when closed."""
	h = recv_exact(s, HDR.size)
	if h is None:
		return None
	length, ftype, _version, _flags, seq = HDR.unpack(h)
	body = recv_exact(s, length) if length else b""
	if body is None:
		return None
	return ftype, seq, body


def show(frame):
	ftype, seq, body = frame
	name = NAMES.get(ftype, str(ftype))
	try:
		obj, _ = mp_decode(body) if body else ({}, 0)
	except (ValueError, IndexError, struct.error) as e:
		print("%s undecodable body: %s" % (name, e))
		return
	if ftype == TYPES["ERROR"]:
		print("ERROR reason=%s" % obj.get("reason"))
	elif ftype == TYPES["HELLO"]:
		print("HELLO role=%s name=%s" % (obj.get("role"), obj.get("name")))
	else:
		print("%s seq=%d body=%r" % (name, seq, obj))
	sys.stdout.flush()


def ftype_of(spec):
	return int(spec) if spec.isdigit() else TYPES[spec.upper()]


def main():
	ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	ap.add_argument("socket")
	ap.add_argument("--role", default="producer")
	ap.add_argument("--name", default="rawpeer")
	ap.add_argument("--device", default="rawpeer-device")
	ap.add_argument("--version", type=int, default=1,
	    help="protocol version in the HELLO body")
	ap.add_argument("--hdr-version", type=int, default=1,
	    help="protocol version byte in the HELLO header")
	ap.add_argument("--timeout", type=float, default=20.0)
	ap.add_argument("--hello", dest="steps", action="append_const",
	    const=("hello", None))
	ap.add_argument("--raw", dest="steps", action="append",
	    type=lambda v: ("raw", bytes.fromhex(v)))
	ap.add_argument("--frame", dest="steps", action="append",
	    type=lambda v: ("frame", v))
	ap.add_argument("--body", dest="steps", action="append",
	    type=lambda v: ("body", bytes.fromhex(v)))
	ap.add_argument("--samples", dest="steps", action="append",
	    type=lambda v: ("samples", v))
	ap.add_argument("--close", dest="steps", action="append_const",
	    const=("close", None))
	a = ap.parse_args()

	s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	s.settimeout(a.timeout)
	s.connect(a.socket)
	body = mp_encode({})
	try:
		for kind, arg in a.steps or []:
			if kind == "hello":
				hb = mp_encode({"role": a.role, "name": a.name,
				    "pid": os.getpid(), "version": a.version,
				    "device": a.device, "epoch": 12345})
				s.sendall(header(TYPES["HELLO"], len(hb),
				    version=a.hdr_version) + hb)
				f = read_frame(s)
				if f is None:
					print("closed by writer")
					return 0
				show(f)
				if f[0] != TYPES["HELLO"]:
					break
			elif kind == "raw":
				s.sendall(arg)
			elif kind == "body":
				body = arg
			elif kind == "samples":
				body = mp_encode({"device": arg,
				    "series": [["rawpeer.value", ["k", "v"]]],
				    "points": [0, 1700000000000, 1.5]})
			elif kind == "frame":
				t, _, n = arg.partition(":")
				n = int(n) if n else len(body)
				s.sendall(header(ftype_of(t), n, seq=1) + body)
				body = mp_encode({})
			elif kind == "close":
				s.close()
				print("closed by us")
				return 0
	except (BrokenPipeError, ConnectionResetError):
		# The writer hung up while we were still sending: what it said
		# before that may still be waiting to be read.
		pass
	except socket.timeout:
		print("timeout")
		return 0
	try:
		while True:
			f = read_frame(s)
			if f is None:
				print("closed by writer")
				return 0
			show(f)
	except socket.timeout:
		print("timeout")
		return 0


if __name__ == "__main__":
	sys.exit(main())
