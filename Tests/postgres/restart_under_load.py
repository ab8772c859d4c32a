#!/usr/bin/env python3
"""A PostgreSQL restart under load (contract §13, Protocol/README.md §10).

    python3 Tests/postgres/restart_under_load.py EXECUTABLE

A service on a new database of the server CREDENTIALS_RPC_TEST_POSTGRES names (its data folder
in CREDENTIALS_RPC_TEST_POSTGRES_DATA, as `.ci/postgres` sets both) adds credentials one after
another while the server is restarted (`pg_ctl restart -m fast`). Every answer must be a
credential or a -32603 `storage_unavailable` error, the service must answer again within 30 s
of the restart and keep serving, every acknowledged credential must be in the database, and the
process must exit 0 at the end of its input. Prints the figures; exits 1 on any failure.
Standard library and the psql and pg_ctl programs only; restarting disturbs every other user of
the server, so CI runs it alone, after the other tests.
"""

import glob
import json
import os
import subprocess
import sys
import threading
import time
import uuid


def main(executable):
    uri, data = os.environ["CREDENTIALS_RPC_TEST_POSTGRES"], os.environ["CREDENTIALS_RPC_TEST_POSTGRES_DATA"]
    socket_dir = uri.split("host=")[1].split("&")[0]
    pg_ctl = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    name = "crpc_restart_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", uri, "-qAtc", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    db = uri + "&dbname=" + name
    env = dict(os.environ, CREDENTIALS_RPC_PBKDF2_ITERATIONS="1000", CREDENTIALS_RPC_INSECURE_TESTING="1")
    service = subprocess.Popen([executable, "--db", db], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env, text=True, bufsize=1)

    def call(i, method, params):
        service.stdin.write(json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params}) + "\n")
        service.stdin.flush()
        return json.loads(service.stdout.readline())

    call(1, "setup.createAdmin", {"email": "ada@example.com", "firstName": "Ada", "lastName": "Admin", "password": "Admin#1234"})
    call(2, "session.login", {"email": "ada@example.com", "password": "Admin#1234"})
    type_id = call(3, "credentialTypes.create", {"name": "Licence", "requiresExpiration": True})["result"]["id"]
    admin = call(4, "session.whoami", {})["result"]["user"]["id"]

    restarted = {}

    def restart():
        time.sleep(1)
        restarted["at"] = time.monotonic()
        subprocess.run(as_pg + [pg_ctl, "-D", data, "-m", "fast", "-w", "-t", "60", "restart", "-l", os.path.join(os.path.dirname(data), "server.log"),
                                "-o", f"-k {socket_dir} -c listen_addresses= -c max_connections=200"], check=True, capture_output=True)
        restarted["back"] = time.monotonic()

    thread = threading.Thread(target=restart)
    thread.start()
    counts, acked, failures, last_error = {}, [], [], None
    started, i = time.monotonic(), 10
    while time.monotonic() - started < 6 or "back" not in restarted:
        i += 1
        answer = call(i, "credentials.add", {"userId": admin, "typeId": type_id, "issueDate": "2026-01-01",
                                             "expirationDate": "2027-01-01", "documentNumber": f"R-{i}"})
        if "result" in answer:
            acked.append(answer["result"]["id"])
            counts["ok"] = counts.get("ok", 0) + 1
        else:
            reason = answer["error"].get("data", {}).get("reason")
            counts[reason] = counts.get(reason, 0) + 1
            last_error = time.monotonic()
            if answer["error"]["code"] != -32603 or reason != "storage_unavailable":
                failures.append(f"answer {i}: {answer}")
        if time.monotonic() - started > 90:
            failures.append("the run did not end within 90 s")
            break
        time.sleep(0.005)
    thread.join()
    service.stdin.close()
    code = service.wait(timeout=30)
    service.stderr.read()
    stored = subprocess.run(["psql", db, "-qAtc", "SELECT id FROM credentials"], capture_output=True, text=True).stdout.split()
    subprocess.run(["psql", uri, "-qAtc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], capture_output=True)

    lost = set(acked) - set(stored)
    if lost:
        failures.append(f"{len(lost)} acknowledged credentials are not in the database")
    if code != 0:
        failures.append(f"the service exited {code}")
    if counts.get("storage_unavailable", 0) == 0:
        failures.append("no request met the restart: the run proves nothing")
    recovered = (last_error - restarted["at"]) if last_error else 0
    if recovered > 30:
        failures.append(f"errors went on {recovered:.1f} s after the restart began")
    print(f"restart under load: {counts}; errors for {recovered:.2f} s from the restart's start "
          f"(the server was back after {restarted['back'] - restarted['at']:.2f} s); {len(acked)} acknowledged, all stored: {not lost}")
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
