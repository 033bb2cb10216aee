#!/usr/bin/env python3
"""A stand-in for tunnelbroker.net's nic/update endpoint, for the e2e tests.

    he_update_server.py --listen 10.0.1.1 --port 8080 --log requests.jsonl \
        [--answer "good 192.0.2.7"]

Answers every GET with the answer (text/plain) and appends one JSON line per
request to the log: {"path", "query" (parsed), "user", "password",
"user_agent"} with the Basic credentials decoded, so that a test can check
what mantad sent.
"""
import argparse
import base64
import http.server
import json
import urllib.parse


def handler(log_path, answer):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            user = password = None
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            with open(log_path, "a") as f:
                f.write(json.dumps({
                    "path": url.path,
                    "query": urllib.parse.parse_qs(url.query),
                    "user": user,
                    "password": password,
                    "user_agent": self.headers.get("User-Agent"),
                }) + "\n")
            body = (answer + "\n").encode()
            self.send_response(200 if user else 401)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            pass

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--log", required=True)
    ap.add_argument("--answer", default="good 127.0.0.1")
    args = ap.parse_args()
    server = http.server.HTTPServer((args.listen, args.port), handler(args.log, args.answer))
    server.serve_forever()


if __name__ == "__main__":
    main()
