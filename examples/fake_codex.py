"""A fake Codex Responses endpoint on loopback, to try `rotor call` without real accounts.

Usage: python3 examples/fake_codex.py [PORT]        (default 8765)

POST /codex/responses answers by the ChatGPT-Account-ID header, like the real backend would
for three accounts of examples/auth.json:
  acct-0001  200, a short streamed answer
  acct-0002  429 usage_limit_reached, resets in one hour
  acct-0003  200, a short streamed answer
Set FAKE_EXHAUSTED=acct-0003,... to choose which accounts are out of quota instead.
GET /wham/usage answers a usage report for any account. Everything else is 404.
Each request is logged on stderr. Stop it with Ctrl-C.
"""
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EXHAUSTED = set(os.environ.get("FAKE_EXHAUSTED", "acct-0002").split(","))


def sse(event):
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Small SSE chunks must not wait for the client's delayed ACK (Nagle): 40 ms per answer.
    disable_nagle_algorithm = True

    def do_POST(self):
        length = int(self.headers.get("content-length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        account = self.headers.get("chatgpt-account-id", "-")
        if self.path != "/codex/responses":
            return self.reply(404, {"error": {"type": "not_found", "message": self.path}})
        if account in EXHAUSTED:
            return self.reply(429, {"error": {
                "type": "usage_limit_reached",
                "message": "The usage limit has been reached",
                "resets_in_seconds": 3600,
            }})
        prompt = body.get("input", [{}])[0].get("content", [{}])[0].get("text", "")
        words = f"{account} answers: you said {prompt!r}".split(" ")
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        events = [{"type": "response.created", "response": {"id": "resp_fake"}}]
        events += [{"type": "response.output_text.delta", "delta": w + (" " if i < len(words) - 1 else "")}
                   for i, w in enumerate(words)]
        events.append({"type": "response.completed", "response": {"id": "resp_fake", "status": "completed"}})
        for event in events:
            chunk = sse(event)
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def do_GET(self):
        if self.path != "/wham/usage":
            return self.reply(404, {"error": {"type": "not_found", "message": self.path}})
        account = self.headers.get("chatgpt-account-id", "-")
        used = 100 if account in EXHAUSTED else 12
        now = int(time.time())
        self.reply(200, {"plan_type": "team", "rate_limit": {
            "primary_window": {"used_percent": used, "limit_window_seconds": 18000, "reset_after_seconds": 3600, "reset_at": now + 3600},
            "secondary_window": {"used_percent": 40, "limit_window_seconds": 604800, "reset_after_seconds": 86400, "reset_at": now + 86400},
        }})

    def reply(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        account = self.headers.get("chatgpt-account-id", "-") if self.headers else "-"
        sys.stderr.write(f"fake_codex: {self.command} {self.path} account={account} -> {args[1] if len(args) > 1 else ''}\n")


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    print(f"fake Codex on http://127.0.0.1:{port}/codex (exhausted: {', '.join(sorted(EXHAUSTED))})", file=sys.stderr)
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
