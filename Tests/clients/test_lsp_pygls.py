"""An LSP client library drives the service: pygls's JSON-RPC client frames every message with
Content-Length headers (and a Content-Type), and the service answers in the same framing."""

import asyncio
import os

from pygls.client import JsonRPCClient
from pygls.exceptions import JsonRpcException

import session
from conftest import SERVICE_ENV


async def with_client(executable, db, body):
    client = JsonRPCClient()
    await client.start_io(executable, "--db", db, env=dict(os.environ, **SERVICE_ENV))
    try:
        return await body(client.protocol)
    finally:
        client._server.stdin.close()  # end of input: the service exits 0
        code = await asyncio.wait_for(client._server.wait(), 10)
        await client.stop()
        assert code == 0


def fields(obj):
    """pygls hands results back as attribute objects; this turns one back into a dict."""
    if isinstance(obj, (list, tuple)) and not hasattr(obj, "_asdict"):
        return [fields(o) for o in obj]
    if hasattr(obj, "_asdict"):
        return {k: fields(v) for k, v in obj._asdict().items()}
    return obj


def test_a_session_in_content_length_framing(executable, db):
    async def body(rpc):
        admin = session.ADMIN
        me = await rpc.send_request_async("setup.createAdmin", admin)
        assert me.email == admin["email"] and me.role == "admin"
        login = await rpc.send_request_async("session.login", {"email": admin["email"], "password": admin["password"]})
        assert login.mustChangePassword is False
        rpc.notify("session.whoami")  # never answered
        kind = await rpc.send_request_async("credentialTypes.create", {"name": "First Aid"})
        credential = await rpc.send_request_async("credentials.add", {
            "userId": me.id, "typeId": kind.id, "issueDate": "2026-01-01",
            "media": [session.media("card.pdf", "application/pdf", session.PDF)]})
        assert fields(credential)["latestVersion"]["media"][0]["byteCount"] == len(session.PDF)
        try:
            await rpc.send_request_async("credentials.getVersion", {"credentialId": credential.id, "version": 9})
            raise AssertionError("version 9 does not exist")
        except JsonRpcException as e:
            assert e.code == -32003 and e.data["reason"] == "not_found"
        try:
            await rpc.send_request_async("credentials.list", {"limit": 0})
            raise AssertionError("limit 0 is out of range")
        except JsonRpcException as e:
            assert e.code == -32602 and [f["field"] for f in e.data["fields"]] == ["limit"]

    asyncio.run(with_client(executable, db, body))


def test_many_requests_in_flight_are_all_answered_to_their_ids(executable, db):
    async def body(rpc):
        await rpc.send_request_async("setup.createAdmin", session.ADMIN)
        await rpc.send_request_async("session.login", {"email": session.ADMIN["email"], "password": session.ADMIN["password"]})
        names = [f"Type {i:02}" for i in range(40)]
        created = await asyncio.gather(*(rpc.send_request_async("credentialTypes.create", {"name": n}) for n in names))
        assert [c.name for c in created] == names
        listed = await rpc.send_request_async("credentialTypes.list", {"limit": 100})
        assert [t.name for t in listed.items] == names

    asyncio.run(with_client(executable, db, body))


def test_the_lsp_lifecycle_ends_the_process_within_two_seconds(executable, db):
    """As LSP clients stop: initialize, a request, shutdown, exit, with stdin left open. The
    process must be gone within 2 seconds with status 0."""
    async def main():
        client = JsonRPCClient()
        await client.start_io(executable, "--db", db, env=dict(os.environ, **SERVICE_ENV))
        rpc = client.protocol
        init = await rpc.send_request_async("initialize", {"processId": os.getpid(), "capabilities": {}, "rootUri": None})
        assert fields(init)["serverInfo"]["name"] == "credentials-rpc"
        rpc.notify("initialized", {})
        info = await rpc.send_request_async("service.info", {})
        assert info.name == "credentials-rpc"
        assert await rpc.send_request_async("shutdown", None) is None
        rpc.notify("exit", None)
        code = await asyncio.wait_for(client._server.wait(), 2)
        await client.stop()
        assert code == 0

    asyncio.run(main())
