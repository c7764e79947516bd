#!/usr/bin/env python3
"""A real HTTP/1.1 server for RefitHTTP's tests (Python 3 standard library only).

Binds 127.0.0.1 on a free port and prints the port as the first stdout line. With
`--tls-cert CERT --tls-key KEY` it also serves the same routes over TLS and prints that port as the
second line. It exits when its stdin reaches EOF, so it never outlives the test process.

Routes:
  /echo                      method, path, query, headers and body as JSON (any method)
  /status/N                  answers status N; ?retry_after=S adds `Retry-After: S`;
                             ?retry_after_date=S adds an HTTP-date S seconds ahead; ?echo=1 puts the
                             request line and headers in the body
  /redirect/N                302 to /redirect/N-1; /redirect/0 answers 200 "done"
  /loop                      302 to itself
  /slow?seconds=S            sleeps S seconds, then 200
  /large?bytes=N[&chunked=1] N bytes of 'x' (with Content-Length, or chunked without it)
  /truncated                 declares Content-Length 1000, sends 10 bytes, closes
  /garbage                   sends a line that is not HTTP, closes
  /multi                     two `X-Multi` headers, and `X-Padded` with tabs and spaces around its value
  /conn?tag=T                how many distinct connections served requests tagged T (this one included)
  /sigv4/...                 200 when the SigV4 signature is valid for SIGV4_SECRET (recomputed the
                             way AWS canonicalizes: sorted, RFC 3986 encoded query), 403 otherwise
  /unused-port               a port that was free a moment ago (nothing listens on it)
  /blackhole-port            a port that accepts no connections (its listen queue is full): connects hang
"""
import hashlib
import hmac
import json
import os
import socket
import ssl
import sys
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, quote, urlsplit

_lock = threading.Lock()
_connections_by_tag = {}
_next_connection = [0]


_blackhole = []

# The secret the /sigv4 route verifies signatures with (the AWS documentation's example key).
SIGV4_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def _sigv4_check(method, raw_path, raw_query, headers):
    """Recomputes an AWS SigV4 header signature the way AWS does; returns (valid, canonical request)."""
    auth = headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return False, "no SigV4 Authorization header"
    fields = dict(part.strip().split("=", 1) for part in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    access_key, date, region, service, terminator = fields["Credential"].split("/")
    signed = fields["SignedHeaders"].split(";")
    enc = lambda v: quote(v, safe="-_.~")
    pairs = sorted((enc(k), enc(v)) for k, v in parse_qsl(raw_query, keep_blank_values=True))
    canonical_query = "&".join(f"{k}={v}" for k, v in pairs)
    canonical_headers = "".join(f"{h}:{' '.join(headers.get(h, '').split())}\n" for h in signed)
    canonical = "\n".join([method, raw_path, canonical_query, canonical_headers, ";".join(signed),
                           headers.get("x-amz-content-sha256", "")])
    scope = f"{date}/{region}/{service}/{terminator}"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", headers.get("x-amz-date", ""), scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + SIGV4_SECRET).encode()
    for part in (date, region, service, terminator):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("Signature", "")), canonical


def _blackhole_port():
    """A port whose listen queue is full and never drained, so new connections are never accepted."""
    with _lock:
        if not _blackhole:
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            listener.listen(0)
            fillers = []
            for _ in range(4):
                filler = socket.socket()
                filler.setblocking(False)
                try:
                    filler.connect(listener.getsockname())
                except BlockingIOError:
                    pass
                fillers.append(filler)
            _blackhole.extend([listener] + fillers)
        return _blackhole[0].getsockname()[1]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        with _lock:
            _next_connection[0] += 1
            self.connection_id = _next_connection[0]

    def log_message(self, *args):
        pass

    # -- helpers -------------------------------------------------------------------------------
    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _route(self):
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        body = self._body()
        tag = query.get("tag")
        if tag:
            with _lock:
                _connections_by_tag.setdefault(tag, set()).add(self.connection_id)
        path = parts.path
        segments = [s for s in path.split("/") if s]

        if path.startswith("/sigv4/"):
            valid, canonical = _sigv4_check(self.command, parts.path, parts.query, self.headers)
            self._send(200 if valid else 403, json.dumps({"valid": valid, "canonical": canonical}).encode(),
                       [("Content-Type", "application/json")])
        elif path == "/echo":
            payload = {
                "method": self.command,
                "path": path,
                "query": parts.query,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body": body.decode("utf-8", "replace"),
                "bodyLength": len(body),
            }
            self._send(200, json.dumps(payload).encode(), [("Content-Type", "application/json")])
        elif len(segments) == 2 and segments[0] == "status":
            status = int(segments[1])
            headers = []
            if "retry_after" in query:
                headers.append(("Retry-After", query["retry_after"]))
            if "retry_after_date" in query:
                headers.append(("Retry-After", formatdate(time.time() + float(query["retry_after_date"]), usegmt=True)))
            text = f"status {status}"
            if query.get("echo") == "1":
                lines = [f"{self.command} {self.path}"] + [f"{k}: {v}" for k, v in self.headers.items()]
                text += "\n" + "\n".join(lines)
            self._send(status, text.encode(), headers)
        elif len(segments) == 2 and segments[0] == "redirect":
            n = int(segments[1])
            if n <= 0:
                self._send(200, b"done")
            else:
                self._send(302, b"", [("Location", f"/redirect/{n - 1}")])
        elif path == "/loop":
            self._send(302, b"", [("Location", "/loop")])
        elif path == "/slow":
            time.sleep(float(query.get("seconds", "5")))
            self._send(200, b"slow")
        elif path == "/large":
            n = int(query.get("bytes", "0"))
            if query.get("chunked") == "1":
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                remaining = n
                while remaining > 0:
                    size = min(remaining, 4096)
                    self.wfile.write(b"%x\r\n" % size + b"x" * size + b"\r\n")
                    remaining -= size
                self.wfile.write(b"0\r\n\r\n")
            else:
                self._send(200, b"x" * n)
        elif path == "/truncated":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
        elif path == "/garbage":
            self.wfile.write(b"THIS IS NOT HTTP\r\n\r\n")
            self.wfile.flush()
            self.close_connection = True
        elif path == "/multi":
            self._send(200, b"multi", [("X-Multi", "a"), ("X-Multi", "b"), ("X-Padded", "\t inner  space \t")])
        elif path == "/conn":
            with _lock:
                count = len(_connections_by_tag.get(tag, set()))
            self._send(200, str(count).encode())
        elif path == "/blackhole-port":
            self._send(200, str(_blackhole_port()).encode())
        elif path == "/unused-port":
            probe = socket.socket()
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
            probe.close()
            self._send(200, str(port).encode())
        else:
            self._send(404, b"no such route")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _route


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass  # clients that hang up early (timeouts, cancellation, size cap) are expected


def main():
    plain = Server(("127.0.0.1", 0), Handler)
    ports = [plain.server_address[1]]
    servers = [plain]
    if "--tls-cert" in sys.argv:
        cert = sys.argv[sys.argv.index("--tls-cert") + 1]
        key = sys.argv[sys.argv.index("--tls-key") + 1]
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        secure = Server(("127.0.0.1", 0), Handler)
        secure.socket = context.wrap_socket(secure.socket, server_side=True, do_handshake_on_connect=False)
        ports.append(secure.server_address[1])
        servers.append(secure)
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    for port in ports:
        print(port)
    sys.stdout.flush()
    # Exit when the parent closes our stdin (or dies).
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main()
