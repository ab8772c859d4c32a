"""Shared set-up for the client tests: where the service is, and how it is started."""

import os
import pathlib
import subprocess
import uuid

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

# Cheap password hashing: the tests sign in many times. Never used in production.
SERVICE_ENV = {"CREDENTIALS_RPC_PBKDF2_ITERATIONS": "1000", "CREDENTIALS_RPC_INSECURE_TESTING": "1"}


@pytest.fixture(scope="session")
def executable():
    """The built service: $CREDENTIALS_RPC, else the debug build. Missing is a failure, not a skip."""
    path = os.environ.get("CREDENTIALS_RPC") or str(ROOT / ".build" / "debug" / "credentials-rpc")
    if not os.access(path, os.X_OK):
        pytest.fail(f"no credentials-rpc executable at {path}: run `swift build` first or set CREDENTIALS_RPC")
    return path


@pytest.fixture
def env():
    return dict(os.environ, **SERVICE_ENV)


@pytest.fixture
def db(tmp_path):
    """The store a test's service uses: a new SQLite file; or, with CREDENTIALS_RPC_CLIENT_STORE=postgresql,
    a new database on the server CREDENTIALS_RPC_TEST_POSTGRES names (CI runs the tests both ways)."""
    if os.environ.get("CREDENTIALS_RPC_CLIENT_STORE") != "postgresql":
        yield str(tmp_path / "clients.sqlite3")
        return
    base = os.environ.get("CREDENTIALS_RPC_TEST_POSTGRES")
    if not base:
        pytest.fail("CREDENTIALS_RPC_CLIENT_STORE=postgresql needs CREDENTIALS_RPC_TEST_POSTGRES (source .ci/postgres)")
    name = "crpc_clients_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", base, "-qAtc", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    yield base + ("&" if "?" in base else "?") + "dbname=" + name
    subprocess.run(["psql", base, "-qAtc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], capture_output=True)
