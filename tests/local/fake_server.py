"""A stand-in for the model server: answers GET /v1/models and keeps a grandchild alive.

Usage: python fake_server.py PORT CHILD_PID_FILE MODEL_ID
The grandchild (`sleep`) lets tests check that stopping kills the whole process group.
"""

import http.server
import json
import subprocess
import sys
from pathlib import Path


MODEL_ID = "fake"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        body = json.dumps({"object": "list", "data": [{"id": MODEL_ID}]}).encode()
        self.send_response(200 if self.path == "/v1/models" else 404)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


if __name__ == "__main__":
    port, pid_file, MODEL_ID = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    child = subprocess.Popen(["sleep", "60"])
    pid_file.write_text(str(child.pid))
    print("fake server ready", flush=True)
    http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
