"""A webhook endpoint on 127.0.0.1 that records the alerts Apprise's json:// sends it."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from testbed.site import SHUTDOWN_POLL_S

# In every receiver URL: the tests check it never reaches the warehouse or the logs.
TOKEN = "s3cr3tT0kenXYZ"


class Receiver:
    """A webhook endpoint on 127.0.0.1: records what it is sent, answers `status`."""

    def __init__(self):
        self.received: list[dict] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.status == 200:
                    receiver.received.append({"path": self.path, "headers": dict(self.headers),
                                              "json": json.loads(body)})
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL_S},
                                       daemon=True)
        self.thread.start()

    def url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}/{TOKEN}"

    def titles(self) -> list[str]:
        return [r["json"]["title"] for r in self.received]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
