"""The MCP Python SDK's stdio client streams (newline framing, typed messages) drive the service:
it spawns the process, every answer parses as a typed JSON-RPC response or error, and the
session runs through."""

import anyio
import mcp_types as types
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.message import SessionMessage

import session
from conftest import SERVICE_ENV


async def drive(executable, db, steps):
    """Runs `steps(call, notify)` over the SDK's streams; returns every message received."""
    received = []
    params = StdioServerParameters(command=executable, args=["--db", db], env=SERVICE_ENV)
    async with stdio_client(params) as (read, write):
        next_id = 0

        async def call(method, params=None):
            nonlocal next_id
            next_id += 1
            request = types.JSONRPCRequest(jsonrpc="2.0", id=next_id, method=method, params=params or {})
            await write.send(SessionMessage(request))
            with anyio.fail_after(30):
                message = await read.receive()
            assert not isinstance(message, Exception), f"the SDK could not read the answer to {method}: {message}"
            received.append(message.message)
            answer = message.message
            assert answer.id == next_id
            if isinstance(answer, types.JSONRPCError):
                raise session.Failure(method, answer.error.code, answer.error.data)
            assert isinstance(answer, types.JSONRPCResponse)
            return answer.result

        async def notify(method, params=None):
            await write.send(SessionMessage(types.JSONRPCNotification(jsonrpc="2.0", method=method, params=params or {})))

        await steps(call, notify)
    return received


def test_the_sdk_streams_carry_a_session(executable, db):
    async def steps(call, notify):
        admin = session.ADMIN
        me = await call("setup.createAdmin", admin)
        await call("session.login", {"email": admin["email"], "password": admin["password"]})
        # A notification is run but never answered: the next answer is the next request's.
        await notify("session.whoami")
        kind = await call("credentialTypes.create", {"name": "First Aid", "requiresExpiration": True})
        credential = await call("credentials.add", {"userId": me["id"], "typeId": kind["id"], "issueDate": "2026-01-01",
                                                    "expirationDate": "2027-01-01", "media": [session.media("c.pdf", "application/pdf", session.PDF)]})
        assert credential["latestVersion"]["media"][0]["contentType"] == "application/pdf"
        renewed = await call("credentials.addVersion", {"credentialId": credential["id"], "issueDate": "2027-01-01",
                                                        "expirationDate": "2028-01-01"})
        assert renewed["versionCount"] == 2
        history = await call("credentials.history", {"credentialId": credential["id"]})
        assert [v["number"] for v in history["items"]] == [2, 1]
        try:
            await call("credentials.delete", {"credentialId": credential["id"]})
            raise AssertionError("deleted without confirmation")
        except session.Failure as e:
            assert (e.code, e.reason) == (-32005, "confirmation_required")
            assert e.data["preview"]["versions"] == 2
        assert await call("credentials.delete", {"credentialId": credential["id"], "confirm": True}) == \
            {"deleted": True, "credentialId": credential["id"]}

    received = anyio.run(drive, executable, db, steps)
    assert len(received) == 8
    assert sum(isinstance(m, types.JSONRPCError) for m in received) == 1


def test_the_full_session_through_the_sdk(executable, db):
    """Every method once: every answer is a message the SDK's types accept."""
    async def steps(call, notify):
        results = []

        # session.run is synchronous; the SDK is async: run the calls from a worker thread.
        def sync_call(method, params):
            return anyio.from_thread.run(call, method, params)

        results.extend(await anyio.to_thread.run_sync(session.run, sync_call))
        document = next(result for method, _, result in results if method == "rpc.discover")
        assert {m for m, _, _ in results} == {m["name"] for m in document["methods"]}

    anyio.run(drive, executable, db, steps)


# --- The real MCP client: ClientSession over stdio_client, as AI hosts drive the service. ---

import base64
import json
import os
import re
import subprocess

import pytest

from mcp import ClientSession

DESTRUCTIVE = {"credentials_delete", "credentials_deleteMedia", "users_deactivate", "tokens_revoke", "teams_removeMember"}
NO_PASSWORD_TOOLS = {"setup_createAdmin", "session_login", "session_changePassword", "users_add", "users_resetPassword"}


def plain(executable, db, requests):
    """Runs plain JSON-RPC requests through a process of their own; returns the results."""
    lines = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(requests, 1)]
    out = subprocess.run([executable, "--db", db], input="".join(json.dumps(l) + "\n" for l in lines),
                         capture_output=True, text=True, env=dict(os.environ, **SERVICE_ENV), timeout=60)
    answers = [json.loads(l) for l in out.stdout.splitlines()]
    assert all("result" in a for a in answers), answers
    return [a["result"] for a in answers]


def admin_with_token(executable, db):
    """The first admin and an API token for it, made the way a person would before adding the host."""
    admin = session.ADMIN
    me, _, token = plain(executable, db, [("setup.createAdmin", admin),
                                         ("session.login", {"email": admin["email"], "password": admin["password"]}),
                                         ("tokens.create", {"name": "assistant"})])
    return me, token["secret"]


def host_params(executable, db, secret, *args):
    return StdioServerParameters(command=executable, args=["--db", db, *args], env=dict(SERVICE_ENV, CREDENTIALS_RPC_TOKEN=secret))


def f(obj, camel):
    """A field under mcp 2.x's snake_case name or 1.x's camelCase one, so one test serves both lines."""
    snake = re.sub(r"(?<!^)([A-Z])", r"_\1", camel).lower()
    return getattr(obj, snake) if hasattr(obj, snake) else getattr(obj, camel)


def structured(result):
    assert f(result, "isError") is False, result.content
    return f(result, "structuredContent")


def test_a_client_session_initializes_lists_and_calls_tools(executable, db):
    me, secret = admin_with_token(executable, db)

    async def body():
        async with stdio_client(host_params(executable, db, secret)) as (read, write):
            async with ClientSession(read, write) as mcp:
                init = await mcp.initialize()
                assert f(init, "serverInfo").name == "credentials-rpc"
                assert init.capabilities.tools is not None
                assert "confirm: true" in init.instructions and "CREDENTIALS_RPC_TOKEN" in init.instructions
                await mcp.send_ping()
                listed = (await mcp.list_tools()).tools
                names = [t.name for t in listed]
                assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", n) for n in names)
                assert not NO_PASSWORD_TOOLS & set(names)
                for t in listed:
                    assert f(t, "inputSchema")["type"] == "object" and not {"oneOf", "anyOf", "allOf"} & set(f(t, "inputSchema"))
                    assert f(t, "outputSchema")["type"] == "object"
                    assert "$ref" not in json.dumps(f(t, "inputSchema")) + json.dumps(f(t, "outputSchema"))
                    assert f(t.annotations, "openWorldHint") is False
                    assert (f(t.annotations, "destructiveHint") is True) == (t.name in DESTRUCTIVE)
                by_name = {t.name: t for t in listed}
                assert f(by_name["credentials_list"].annotations, "readOnlyHint") is True
                assert f(by_name["credentials_add"].annotations, "readOnlyHint") is False

                # The glue flow, as tools: the SDK validates every structuredContent against outputSchema.
                assert structured(await mcp.call_tool("session_whoami", {}))["user"]["id"] == me["id"]
                kind = structured(await mcp.call_tool("credentialTypes_create", {"name": "First Aid", "requiresExpiration": True}))
                credential = structured(await mcp.call_tool("credentials_add", {
                    "userId": me["id"], "typeId": kind["id"], "issueDate": "2026-01-01", "expirationDate": "2027-01-01",
                    "media": [session.media("card.png", "image/png", session.PNG), session.media("c.pdf", "application/pdf", session.PDF)]}))
                renewed = structured(await mcp.call_tool("credentials_addVersion", {
                    "credentialId": credential["id"], "issueDate": "2027-01-01", "expirationDate": "2028-01-01"}))
                assert renewed["versionCount"] == 2
                assert [v["number"] for v in structured(await mcp.call_tool("credentials_history", {"credentialId": credential["id"]}))["items"]] == [2, 1]
                team = structured(await mcp.call_tool("teams_create", {"name": "Crew"}))
                structured(await mcp.call_tool("teams_addMember", {"teamId": team["id"], "userId": me["id"]}))
                structured(await mcp.call_tool("teams_setRequiredTypes", {"teamId": team["id"], "typeIds": [kind["id"]]}))
                report = structured(await mcp.call_tool("compliance_report", {"teamId": team["id"]}))
                assert report["summary"]["members"] == 1

                png, pdf = credential["latestVersion"]["media"]
                image = await mcp.call_tool("media_get", {"mediaId": png["id"]})
                kinds = [c.type for c in image.content]
                assert kinds == ["text", "image"] and base64.b64decode(image.content[1].data) == session.PNG
                doc = await mcp.call_tool("media_get", {"mediaId": pdf["id"]})
                assert doc.content[1].type == "resource" and f(doc.content[1].resource, "mimeType") == "application/pdf"

                # A failing call is an isError result naming the reason and the field.
                bad = await mcp.call_tool("credentials_list", {"limit": 0})
                assert f(bad, "isError") is True and "invalid_params" in bad.content[0].text and "limit" in bad.content[0].text
                preview = await mcp.call_tool("credentials_delete", {"credentialId": credential["id"]})
                assert f(preview, "isError") is True and "confirmation_required" in preview.content[0].text
                assert '"versions":2' in preview.content[0].text
                deleted = structured(await mcp.call_tool("credentials_delete", {"credentialId": credential["id"], "confirm": True}))
                assert deleted == {"deleted": True, "credentialId": credential["id"]}

    anyio.run(body)


def test_progress_callbacks_during_a_2000_row_import(executable, db):
    """A tool call with a progress token gets rising notifications/progress before its answer."""
    me, secret = admin_with_token(executable, db)
    plain(executable, db, [("session.login", {"token": secret}), ("credentialTypes.create", {"name": "Forklift"})])
    rows = "".join(f"{session.ADMIN['email']},Forklift,2026-01-{1 + i % 28:02},,N{i}\n" for i in range(2000))
    csv = "email,credential_type,issue_date,expiration_date,document_number\n" + rows
    seen = []

    async def progress(done, total, message):
        seen.append((done, total))

    async def body():
        async with stdio_client(host_params(executable, db, secret, "--tools", "credentials")) as (read, write):
            async with ClientSession(read, write) as mcp:
                await mcp.initialize()
                names = [t.name for t in (await mcp.list_tools()).tools]
                assert names and all(n.startswith("credentials_") for n in names)
                result = await mcp.call_tool("credentials_import", {"csv": csv}, progress_callback=progress)
                assert structured(result)["created"] == 2000

    anyio.run(body)
    assert len(seen) >= 5
    assert [d for d, _ in seen] == sorted({d for d, _ in seen}) and seen[-1] == (4000, 4000)


def test_the_2x_client_probes_server_discover_then_falls_back(executable, db):
    """mcp 2.x's Client probes server/discover first (MCP 2026-07-28); the prompt -32601 makes it
    fall back to initialize. The 1.x line has no such client: there the test says so and stops."""
    client_module = pytest.importorskip("mcp.client", reason="mcp 1.x").__dict__
    if "Client" not in client_module:
        pytest.skip("this mcp line has no high-level Client (mcp 1.x)")
    Client = client_module["Client"]
    me, secret = admin_with_token(executable, db)

    async def body():
        with anyio.fail_after(20):
            async with Client(host_params(executable, db, secret, "--tools", "read-only")) as client:
                tools = (await client.list_tools()).tools
                assert tools and all(f(t.annotations, "readOnlyHint") is True for t in tools)
                who = await client.call_tool("session_whoami", {})
                assert structured(who)["user"]["id"] == me["id"]

    anyio.run(body)
