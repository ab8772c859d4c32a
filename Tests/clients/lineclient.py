"""The smallest newline-framed client: one process, a request line out, a response line back."""

import json
import subprocess

from session import Failure


class LineClient:
    def __init__(self, executable, db, env):
        self.process = subprocess.Popen([executable, "--db", db], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        env=env)
        self.next_id = 0

    def send(self, message):
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        self.process.stdin.flush()

    def receive(self):
        line = self.process.stdout.readline()
        assert line.endswith(b"\n"), f"no complete response line: {line!r}"
        return json.loads(line)

    def call(self, method, params=None):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}})
        response = self.receive()
        assert response["id"] == self.next_id
        if "error" in response:
            raise Failure(method, response["error"]["code"], response["error"].get("data"))
        return response["result"]

    def close(self):
        self.process.stdin.close()
        return self.process.wait(timeout=10)
