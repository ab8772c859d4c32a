"""Shared set-up for the client tests: where the service is, and how it is started."""

import os
import pathlib

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
    return str(tmp_path / "clients.sqlite3")
