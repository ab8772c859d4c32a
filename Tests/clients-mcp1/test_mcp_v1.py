"""The MCP Python SDK's 1.x line (ClientSession over stdio_client) drives the server as hosts
built on it do: initialize, list the tools, call them (the SDK validates structuredContent against
each tool's outputSchema), a failing call as isError, progress during an import. The 2.x line is
in Tests/clients/test_mcp_stdio.py."""

import importlib.metadata
import json
import os
import pathlib
import re
import subprocess

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

ROOT = pathlib.Path(__file__).resolve().parents[2]
ENV = {"CREDENTIALS_RPC_PBKDF2_ITERATIONS": "1000", "CREDENTIALS_RPC_INSECURE_TESTING": "1"}


@pytest.fixture(scope="session")
def executable():
    path = os.environ.get("CREDENTIALS_RPC") or str(ROOT / ".build" / "debug" / "credentials-rpc")
    if not os.access(path, os.X_OK):
        pytest.fail(f"no credentials-rpc executable at {path}")
    return path


def test_this_is_the_1x_line():
    assert importlib.metadata.version("mcp").startswith("1.")


def bootstrap(executable, db):
    """An admin, a type and an API token, over plain JSON-RPC; the token's secret."""
    calls = [("setup.createAdmin", {"email": "ada@example.com", "firstName": "Ada", "lastName": "Admin", "password": "Admin#1234"}),
             ("session.login", {"email": "ada@example.com", "password": "Admin#1234"}),
             ("credentialTypes.create", {"name": "First Aid", "requiresExpiration": True}),
             ("tokens.create", {"name": "mcp 1.x"})]
    lines = "".join(json.dumps({"jsonrpc": "2.0", "id": i, "method": m, "params": p}) + "\n" for i, (m, p) in enumerate(calls))
    out = subprocess.run([executable, "--db", db], input=lines, capture_output=True, text=True, env=dict(os.environ, **ENV), timeout=60)
    answers = [json.loads(l) for l in out.stdout.splitlines()]
    assert all("result" in a for a in answers), answers
    return answers[0]["result"]["id"], answers[3]["result"]["secret"]


def test_a_1x_client_session(executable, tmp_path):
    db = str(tmp_path / "v1.sqlite3")
    admin_id, secret = bootstrap(executable, db)
    params = StdioServerParameters(command=executable, args=["--db", db], env={**ENV, "CREDENTIALS_RPC_TOKEN": secret})
    seen = []

    async def drive():
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as s:
                init = await s.initialize()
                assert init.serverInfo.name == "credentials-rpc"
                assert init.protocolVersion in ("2025-11-25", "2025-06-18", "2025-03-26")
                assert "confirm" in (init.instructions or "")
                tools = (await s.list_tools()).tools
                names = {t.name for t in tools}
                assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", n) for n in names)
                assert {"users_list", "credentials_import", "credentials_delete"} <= names
                assert not names & {"users_add", "session_login", "users_resetPassword", "setup_createAdmin", "session_changePassword"}
                for t in tools:
                    assert t.inputSchema["type"] == "object" and not {"oneOf", "anyOf", "allOf"} & set(t.inputSchema)
                me = await s.call_tool("session_whoami", {})
                assert not me.isError and me.structuredContent["user"]["id"] == admin_id
                listed = await s.call_tool("users_list", {"limit": 5})  # the SDK checks it against outputSchema
                assert not listed.isError and listed.structuredContent["items"][0]["email"] == "ada@example.com"
                bad = await s.call_tool("users_list", {"limit": 0})
                assert bad.isError and "limit" in bad.content[0].text
                csv = "email,credential_type,issue_date,expiration_date\n" + "ada@example.com,First Aid,2026-01-01,2027-01-01\n" * 2000

                async def progress(done, total, message):
                    seen.append((done, total))

                imported = await s.call_tool("credentials_import", {"csv": csv, "dryRun": True}, progress_callback=progress)
                assert not imported.isError and imported.structuredContent["created"] == 2000

    anyio.run(drive)
    assert len(seen) >= 5, seen
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and seen[-1][0] == seen[-1][1]
