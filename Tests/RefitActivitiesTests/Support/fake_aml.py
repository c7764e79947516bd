"""A tiny classic-AML stand-in for what refit-mlsim cannot produce (everything else is tested
against the real emulator): `StatusCode` as an integer, and an oversized status response.

BES jobs, endpoint PATCH, blob GET of outputs, and GET /admin/operations (the operations log).
Usage: fake_aml.py MODE KEY; prints its port, exits when stdin closes.
MODE: ok | intstatus | huge
"""
import json, os, sys, threading, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODE, KEY = sys.argv[1], sys.argv[2]
jobs, ops, lock = {}, [], threading.Lock()
STATES = ["NotStarted", "Running", "Failed", "Cancelled", "Finished"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, code, detail, message):
        self.reply(status, {"error": {"code": code, "message": message, "details": [{"code": detail, "message": message}]}})

    def handle_any(self, method):
        path = self.path.split("?")[0]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if path == "/admin/operations":
            with lock:
                return self.reply(200, list(ops))
        if path.startswith("/blob/"):
            if method != "GET":
                with lock:
                    ops.append(method + " " + path)
                return self.reply(201 if method == "PUT" else 200, b"", "text/plain")
            return self.reply(200, b"Metric,Value\nRMSE,0.25\nR2,0.9\n", "text/csv")
        if self.headers.get("Authorization") != "Bearer " + KEY:
            return self.error(401, "Unauthorized", "ScoreRequestUnauthorized", "Invalid credentials provided.")
        with lock:
            ops.append(method + " " + path)
        parts = path.strip("/").split("/")
        if method == "PATCH" and "endpoints" in parts:
            return self.reply(200, b"", "text/plain")
        if parts[-1] == "jobs" and method == "POST":
            request = json.loads(body)
            job = uuid.uuid4().hex
            with lock:
                jobs[job] = {"state": "NotStarted", "gets": 0, "outputs": request.get("Outputs") or {}}
            return self.reply(200, job)
        if "jobs" in parts:
            job = parts[parts.index("jobs") + 1]
            if job not in jobs:
                return self.error(404, "NotFound", "JobNotFound", "The job does not exist.")
            record = jobs[job]
            if parts[-1] == "start":
                if record["state"] != "NotStarted":
                    return self.error(400, "InvalidOperation", "CannotStartJob",
                                      "The job cannot be started because it is in %s state." % record["state"])
                record["state"] = "Running"
                return self.reply(200, b"", "text/plain")
            if method == "DELETE":
                record["state"] = "Cancelled"
                return self.reply(200, b"", "text/plain")
            if method == "GET":
                if MODE == "huge":
                    return self.reply(200, b"[" + b"0," * 1_000_000 + b"0]")
                record["gets"] += 1
                if record["state"] == "Running" and record["gets"] >= 2:
                    record["state"] = "Finished"
                state = record["state"]
                status = {"StatusCode": STATES.index(state) if MODE == "intstatus" else state, "Results": None, "Details": None}
                if state == "Finished":
                    port = self.server.server_address[1]
                    status["Results"] = {name: {"ConnectionString": None, "RelativeLocation": ref["RelativeLocation"],
                                                "BaseLocation": "http://127.0.0.1:%d/blob/" % port,
                                                "SasBlobToken": "?sv=emu&sp=r&sig=fresh"}
                                         for name, ref in record["outputs"].items()}
                return self.reply(200, status)
        return self.error(404, "NotFound", "NotFound", "No such resource.")

    def do_GET(self): self.handle_any("GET")
    def do_POST(self): self.handle_any("POST")
    def do_PATCH(self): self.handle_any("PATCH")
    def do_DELETE(self): self.handle_any("DELETE")
    def do_PUT(self): self.handle_any("PUT")
    def do_HEAD(self): self.handle_any("HEAD")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
PARENT = os.getppid()


def watch_parent():
    # Exit when the test process is gone, even if a leaked pipe keeps stdin open.
    while os.getppid() == PARENT:
        time.sleep(0.5)
    os._exit(0)


threading.Thread(target=watch_parent, daemon=True).start()
print(server.server_address[1], flush=True)
sys.stdin.read()
