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
