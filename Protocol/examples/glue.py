#!/usr/bin/env python3
"""Drives credentials-rpc from Python with the standard library only.

    python3 glue.py [PATH-TO-credentials-rpc]

Spawns the service (default: `credentials-rpc` on PATH), bootstraps an admin, adds a user, adds a
credential with a PDF, renews it, reads its history and deletes it with confirmation, printing each
step. The database is $CREDENTIALS_RPC_DB, or a temporary file removed at the end. With
$CREDENTIALS_RPC_TOKEN set (an API token from tokens.create), the service signs in with it and the
script uses no password. Exits non-zero as soon as a step fails.
"""

import base64
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time

ADMIN = {"email": "ada@example.com", "firstName": "Ada", "lastName": "Admin", "password": "Admin#1234"}


class RPCError(Exception):
    def __init__(self, method, error):
        self.method, self.code = method, error.get("code")
        self.data = error.get("data") or {}
        self.reason = self.data.get("reason")
        super().__init__(f"{method}: {error.get('message')} ({self.code} {self.reason})")


class Service:
    """One process, one connection: a request line out, a response line back."""

    def __init__(self, executable, db):
        self.process = subprocess.Popen([executable, "--db", db], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, encoding="utf-8")
        self.ids = itertools.count(1)

    def call(self, method, **params):
        request = {"jsonrpc": "2.0", "id": next(self.ids), "method": method, "params": params}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"{method}: the service closed its output (exit code {self.process.poll()})")
        response = json.loads(line)
        if response.get("id") != request["id"]:
            raise RuntimeError(f"{method}: an answer for id {response.get('id')!r}, not {request['id']}")
        if "error" in response:
            raise RPCError(method, response["error"])
        return response["result"]

    def refused(self, reason, method, **params):
        """The error a call must get; anything else is a failure."""
        try:
            self.call(method, **params)
        except RPCError as e:
            if e.reason == reason:
                return e
            raise
        raise RuntimeError(f"{method} succeeded; it should have been refused with {reason}")

    def close(self):
        self.process.stdin.close()
        return self.process.wait(timeout=10)


def tiny_pdf():
    """A one-page PDF. The service checks the file from its bytes, not its name: a PDF needs its
    header, a cross-reference table at the offset `startxref` gives, and `%%EOF` at the end."""
    objects = [b"<</Type /Catalog /Pages 2 0 R>>", b"<</Type /Pages /Kids [3 0 R] /Count 1>>",
               b"<</Type /Page /Parent 2 0 R /MediaBox [0 0 200 200]>>"]
    pdf, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj %s endobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return pdf + b"trailer <</Size %d /Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def run(executable, db):
    service = Service(executable, db)
    print(f"spawned {executable} (database: {db})")
    try:
        if os.environ.get("CREDENTIALS_RPC_TOKEN"):
            # The way for scripts: an API token (tokens.create) in the environment. The service,
            # which inherits it, signs in before reading the first request; no password here.
            me = service.call("session.whoami")["user"]
            print(f"signed in with CREDENTIALS_RPC_TOKEN as {me['email']} ({me['role']})")
        else:
            try:
                service.call("setup.createAdmin", **ADMIN)
                print(f"bootstrapped admin {ADMIN['email']}")
            except RPCError as e:
                if e.reason != "already_initialized":
                    raise
                print("the database already has users: signing in as the existing admin")
            me = service.call("session.login", email=ADMIN["email"], password=ADMIN["password"])["user"]
            print(f"signed in as {me['email']} ({me['role']})")

        stamp = time.strftime("%Y%m%d%H%M%S") + str(os.getpid())
        user = service.call("users.add", email=f"sam.{stamp}@example.com", firstName="Sam", lastName="Smith",
                            role="support", temporaryPassword="Temp#1234")
        print(f"added user {user['email']} ({user['id']}), who must change the password at first sign-in")

        types = service.call("credentialTypes.list", limit=1000)["items"]
        kind = next((t for t in types if t["name"] == "First Aid"), None) \
            or service.call("credentialTypes.create", name="First Aid", requiresExpiration=True)
        pdf = tiny_pdf()
        credential = service.call("credentials.add", userId=user["id"], typeId=kind["id"], issueDate="2026-01-15",
                                  expirationDate="2027-01-14", documentNumber="FA-1001",
                                  media=[{"fileName": "first-aid.pdf", "contentType": "application/pdf",
                                          "dataBase64": base64.b64encode(pdf).decode()}])
        latest = credential["latestVersion"]
        print(f"added credential {credential['id']} ({credential['typeName']}, version {latest['number']}, "
              f"expires {latest['expirationDate']}, {len(latest['media'])} PDF of {latest['media'][0]['byteCount']} bytes)")

        renewed = service.call("credentials.addVersion", credentialId=credential["id"], issueDate="2027-01-10",
                               expirationDate="2028-01-09", documentNumber="FA-2002")
        print(f"renewed: version {renewed['latestVersion']['number']}, expires {renewed['latestVersion']['expirationDate']}")

        history = service.call("credentials.history", credentialId=credential["id"])["items"]
        print("history: " + "; ".join(f"version {v['number']} issued {v['issueDate']} expires {v['expirationDate']} "
                                      f"({v['approval']['status']})" for v in history))

        refused = service.refused("confirmation_required", "credentials.delete", credentialId=credential["id"])
        p = refused.data["preview"]
        print(f"delete without confirmation refused: it would remove {p['versions']} versions, "
              f"{p['mediaFiles']} media file ({p['mediaBytes']} bytes) and {p['activityEntries']} activity entries")
        deleted = service.call("credentials.delete", credentialId=credential["id"], confirm=True)
        print(f"deleted {deleted['credentialId']}")
        service.refused("not_found", "credentials.get", credentialId=credential["id"])
        print("done")
    finally:
        code = service.close()
    if code != 0:
        raise RuntimeError(f"the service exited with {code}")


def main():
    executable = sys.argv[1] if len(sys.argv) > 1 else "credentials-rpc"
    db = os.environ.get("CREDENTIALS_RPC_DB")
    scratch = None
    if not db:
        scratch = tempfile.mkdtemp(prefix="credentials-rpc-glue-")
        db = os.path.join(scratch, "glue.sqlite3")
    try:
        run(executable, db)
    except (RPCError, RuntimeError, OSError, ValueError) as e:
        print(f"failed: {e}", file=sys.stderr)
        return 1
    finally:
        if scratch:
            for name in os.listdir(scratch):
                os.remove(os.path.join(scratch, name))
            os.rmdir(scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
