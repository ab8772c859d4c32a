#!/usr/bin/env python3
"""A NUL byte in every string param of every method, on PostgreSQL (contract §13, §14).

    python3 Tests/postgres/nul_everywhere.py EXECUTABLE

PostgreSQL's text cannot hold a NUL, where SQLite's can, so a NUL that got past the field rules
to a write would be a `storage_error` there. For each method of Protocol/openrpc.json and each of
its string params, a signed-in admin sends the method with its required params filled and that
param holding a NUL; every answer must be a result or a client error (-32602, -32001..-32099),
never -32603, on a new database of the server CREDENTIALS_RPC_TEST_POSTGRES names, and again on a
SQLite file. Prints the counts; exits 1 on any failure. Standard library and psql only.
"""

import json
import os
import subprocess
import sys
import tempfile
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def request(i, method, params):
    return (json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params}) + "\n").encode()


def filler(name, schema, ids):
    """A plausible value for a required param, so that the request gets as far as the store."""
    if name in ids:
        return ids[name]
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "integer":
        return 1
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    if "Date" in name or name == "asOf":
        return "2026-01-01"
    if "email" in name.lower():
        return "x@example.com"
    if "assword" in name:
        return "Temp#1234"
    return "x"


def probe(executable, db):
    login = request(2, "session.login", {"email": "ada@example.com", "password": "Admin#1234"})
    setup = subprocess.run([executable, "--db", db], capture_output=True, check=True, input=b"".join([
        request(1, "setup.createAdmin", {"email": "ada@example.com", "firstName": "Ada", "lastName": "Admin", "password": "Admin#1234"}),
        login, request(3, "credentialTypes.create", {"name": "Licence"})])).stdout.decode().splitlines()
    ids = {"userId": json.loads(setup[0])["result"]["id"], "typeId": json.loads(setup[2])["result"]["id"]}
    document = json.load(open(os.path.join(ROOT, "Protocol", "openrpc.json")))
    lines, probed = [login], {}
    for method in document["methods"]:
        for param in method["params"]:
            if param["schema"].get("type") != "string" or "enum" in param["schema"]:
                continue
            params = {q["name"]: filler(q["name"], q["schema"], ids) for q in method["params"]
                      if q.get("required") and q["schema"].get("type") is not None}
            value = params.get(param["name"])
            value = value if isinstance(value, str) else "x"
            params[param["name"]] = value[:1] + "\u0000" + value[1:]
            i = 10 + len(probed)
            probed[i] = (method["name"], param["name"])
            lines.append(request(i, method["name"], params))
    run = subprocess.run([executable, "--db", db], input=b"".join(lines), capture_output=True)
    failures = []
    answers = run.stdout.decode().splitlines()[1:]
    for line in answers:
        answer = json.loads(line)
        error = answer.get("error")
        if error and not (error["code"] == -32602 or -32099 <= error["code"] <= -32001):
            failures.append((probed.get(answer["id"]), error))
    if len(answers) != len(probed):
        failures.append(("answers", len(answers), "for", len(probed)))
    if run.returncode != 0:
        failures.append(("exit status", run.returncode))
    return len(probed), failures


def main(executable):
    uri = os.environ["CREDENTIALS_RPC_TEST_POSTGRES"]
    name = "crpc_nul_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", uri, "-qc", f"CREATE DATABASE {name}"], check=True)
    try:
        pg_count, pg_failures = probe(executable, uri + ("&" if "?" in uri else "?") + "dbname=" + name)
    finally:
        subprocess.run(["psql", uri, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=True)
    with tempfile.TemporaryDirectory() as folder:
        sqlite_count, sqlite_failures = probe(executable, os.path.join(folder, "nul.db"))
    print(f"NUL in every string param: {pg_count} params on PostgreSQL, {sqlite_count} on SQLite; "
          f"failures: {pg_failures + sqlite_failures}")
    # Fewer params than the document has string params means the probe itself broke.
    return 0 if not pg_failures and not sqlite_failures and pg_count >= 80 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
