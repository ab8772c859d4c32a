#!/usr/bin/env python3
"""Replays the conformance vectors of Protocol/conformance against any credentials-rpc executable.

    python3 Protocol/run-conformance.py EXECUTABLE [VECTOR-FILE ...]
    python3 Protocol/run-conformance.py --postgres URI EXECUTABLE [VECTOR-FILE ...]
    python3 Protocol/run-conformance.py --record EXECUTABLE VECTOR-FILE ...

Each vector file is one session against a fresh service on an empty in-memory database, started
with a stopped clock and sequential ids (CREDENTIALS_RPC_FIXED_TIME) and cheap password hashing
(CREDENTIALS_RPC_PBKDF2_ITERATIONS=1000). The file format and matching rules are in
Protocol/conformance/README.md. Prints each mismatch, then `N passed, N failed` (one count per
expected response, and per response that should not have come); exits 1 on any failure.

--postgres URI runs each file on a new, empty database on that PostgreSQL server instead, made
and dropped again with `psql` (the URI's user must be allowed to create databases); the one
answer that differs, `service.info`'s `storage`, is expected as "postgresql".

--record runs each file's requests one at a time and writes the answers back into the file as
`<--` lines (without `message` members), for writing new vectors. Check what it wrote.
Standard library only.
"""

import base64
import contextlib
import json
import os
import select
import subprocess
import sys
import time
import uuid

FIXED_TIME = "2026-01-01T00:00:00.000Z"
HERE = os.path.dirname(os.path.abspath(__file__))


class Number:
    """A JSON number kept as its text: an id `1.50` must come back as `1.50`."""

    def __init__(self, text):
        self.text = text

    def __eq__(self, other):
        return isinstance(other, Number) and other.text == self.text

    def __repr__(self):
        return self.text


def parse(text):
    return json.loads(text, parse_int=Number, parse_float=Number, parse_constant=Number)


def matches(expected, actual):
    """JSON equality, except that a `message` member the expected object leaves out is not compared."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return False
        keys = set(actual) - ({"message"} - set(expected))
        return keys == set(expected) and all(matches(expected[k], actual[k]) for k in expected)
    if isinstance(expected, list):
        return isinstance(actual, list) and len(expected) == len(actual) and all(map(matches, expected, actual))
    return type(expected) is type(actual) and expected == actual


class Vector:
    """One file: its service options, its requests, and for each request the expected answer or None."""

    def __init__(self, path):
        self.path = path
        self.options = []
        self.requests = []  # raw bytes, without the newline
        self.expected = []  # (line number, text) or None
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f.read().split("\n"), 1):
                if line.startswith("//! max-message-bytes "):
                    self.options += ["--max-message-bytes", line.split()[-1]]
                elif line.startswith("//! max-media-bytes "):
                    self.options += ["--max-media-bytes", line.split()[-1]]
                elif line.startswith("-->b64 "):
                    self.requests.append(base64.b64decode(line[7:]))
                    self.expected.append(None)
                elif line.startswith("--> "):
                    self.requests.append(line[4:].encode("utf-8"))
                    self.expected.append(None)
                elif line.startswith("<-- "):
                    if not self.expected or self.expected[-1] is not None:
                        raise ValueError(f"{path}:{number}: a response with no request before it")
                    self.expected[-1] = (number, line[4:])
                elif line.strip() and not line.startswith("//"):
                    raise ValueError(f"{path}:{number}: unrecognised line")


def environment():
    env = dict(os.environ)
    env["CREDENTIALS_RPC_FIXED_TIME"] = FIXED_TIME
    env["CREDENTIALS_RPC_PBKDF2_ITERATIONS"] = "1000"
    env["CREDENTIALS_RPC_INSECURE_TESTING"] = "1"
    return env


@contextlib.contextmanager
def store(postgres):
    """The --db of one file's session: an in-memory SQLite database, or a new PostgreSQL one."""
    if not postgres:
        yield ":memory:"
        return
    name = "crpc_vectors_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", postgres, "-qAtc", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    try:
        yield postgres + ("&" if "?" in postgres else "?") + "dbname=" + name
    finally:
        subprocess.run(["psql", postgres, "-qAtc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], capture_output=True)


def replay(executable, vector, postgres=None):
    """Sends the whole file, closes stdin, and compares the answers in order. Returns (passed, failures)."""
    stdin = b"".join(r + b"\n" for r in vector.requests)
    with store(postgres) as db:
        done = subprocess.run([executable, "--db", db] + vector.options, input=stdin,
                              capture_output=True, env=environment(), timeout=120)
    name = os.path.basename(vector.path)
    failures = []
    if done.returncode != 0:
        failures.append(f"{name}: exit code {done.returncode}: {done.stderr.decode(errors='replace')[:300]}")
    lines = done.stdout.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    else:
        failures.append(f"{name}: the last response does not end with a newline")
    expected = [e for e in vector.expected if e is not None]
    passed = 0
    for i, (number, text) in enumerate(expected):
        if i >= len(lines):
            failures.append(f"{name}:{number}: no response; expected {text[:200]}")
            continue
        try:
            actual = parse(lines[i].decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            failures.append(f"{name}:{number}: the response is not JSON ({e}): {lines[i][:200]!r}")
            continue
        wanted = parse(text)
        if postgres and isinstance(wanted, dict) and isinstance(wanted.get("result"), dict) and wanted["result"].get("storage") == "sqlite":
            wanted["result"]["storage"] = "postgresql"
        if matches(wanted, actual):
            passed += 1
        else:
            failures.append(f"{name}:{number}:\n  expected {text[:400]}\n  actual   {lines[i].decode()[:400]}")
    for extra in lines[len(expected):]:
        failures.append(f"{name}: a response that should not have come: {extra[:200]!r}")
    return passed, failures


def encode(value):
    """Compact JSON with every number written as its original text and every `message` left out."""
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + encode(v) for k, v in value.items() if k != "message") + "}"
    if isinstance(value, list):
        return "[" + ",".join(map(encode, value)) + "]"
    if isinstance(value, Number):
        return value.text
    return json.dumps(value, ensure_ascii=False)


def record(executable, path):
    """Runs the requests one by one and writes each answer (or none) back after its request."""
    vector = Vector(path)
    process = subprocess.Popen([executable, "--db", ":memory:"] + vector.options, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, env=environment())
    answers = []
    for request in vector.requests:
        process.stdin.write(request + b"\n")
        process.stdin.flush()
        # A notification gets no answer: wait a little, then take silence as the answer.
        ready, _, _ = select.select([process.stdout], [], [], 1.0)
        answers.append(process.stdout.readline().rstrip(b"\n") if ready else None)
    process.stdin.close()
    process.wait(timeout=10)
    out = []
    i = -1
    with open(path, encoding="utf-8") as f:
        for line in f.read().split("\n"):
            if line.startswith("<-- "):
                continue
            out.append(line)
            if line.startswith("-->"):
                i += 1
                if answers[i] is not None:
                    out.append("<-- " + encode(parse(answers[i].decode("utf-8"))))
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out))
    print(f"recorded {path}: {sum(a is not None for a in answers)} responses")


def main(argv):
    recording = argv[:1] == ["--record"]
    args = argv[1:] if recording else argv
    postgres = None
    if args[:1] == ["--postgres"] and len(args) > 1:
        postgres, args = args[1], args[2:]
    if not args:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    executable, files = args[0], args[1:]
    if recording:
        for path in files:
            record(executable, path)
        return 0
    if not files:
        folder = os.path.join(HERE, "conformance")
        files = sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.endswith(".txt"))
    passed = failed = 0
    started = time.monotonic()
    for path in files:
        p, failures = replay(executable, Vector(path), postgres)
        passed += p
        failed += len(failures)
        for f in failures:
            print(f"FAIL {f}")
    print(f"{len(files)} files in {time.monotonic() - started:.1f} s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
