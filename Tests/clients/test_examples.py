"""The glue scripts of Protocol/examples run against the built service, print each step, clean up
their temporary database, honour CREDENTIALS_RPC_DB, and fail loudly when the service is missing."""

import json
import os
import shutil
import subprocess

import pytest

from conftest import ROOT, SERVICE_ENV

EXAMPLES = ROOT / "Protocol" / "examples"
SCRIPTS = {"python": ["python3", str(EXAMPLES / "glue.py")], "node": ["node", str(EXAMPLES / "glue.js")]}
STEPS = ["bootstrapped admin ada@example.com", "signed in as ada@example.com (admin)", "added user sam.",
         "added credential cred_", "(First Aid, version 1, expires 2027-01-14, 1 PDF of", "renewed: version 2, expires 2028-01-09",
         "history: version 2 issued 2027-01-10 expires 2028-01-09 (pending); version 1 issued 2026-01-15",
         "delete without confirmation refused: it would remove 2 versions, 1 media file", "deleted cred_", "done"]


def run(language, args, tmp_path, **extra):
    env = dict(os.environ, **SERVICE_ENV, TMPDIR=str(tmp_path))
    env.pop("CREDENTIALS_RPC_DB", None)
    env.update(extra)
    return subprocess.run(SCRIPTS[language] + args, capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("language", SCRIPTS)
def test_the_glue_script_runs_every_step_and_cleans_up(language, executable, tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    done = run(language, [executable], scratch)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"spawned {executable} (database: {scratch}")
    for step in STEPS:
        assert any(step in line for line in lines), f"no step {step!r} in:\n{done.stdout}"
    assert list(scratch.iterdir()) == [], "the temporary database is removed"


@pytest.mark.parametrize("language", SCRIPTS)
def test_the_glue_script_uses_and_keeps_CREDENTIALS_RPC_DB(language, executable, tmp_path):
    db = tmp_path / "kept.sqlite3"
    first = run(language, [executable], tmp_path, CREDENTIALS_RPC_DB=str(db))
    again = run(language, [executable], tmp_path, CREDENTIALS_RPC_DB=str(db))
    assert first.returncode == 0 and again.returncode == 0, first.stderr + again.stderr
    assert db.exists()
    assert "bootstrapped admin" in first.stdout
    assert "the database already has users" in again.stdout and again.stdout.rstrip().endswith("done")


@pytest.mark.parametrize("language", SCRIPTS)
def test_the_glue_script_finds_the_service_on_PATH_or_fails(language, executable, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shutil.copy(executable, bin_dir / "credentials-rpc")
    on_path = run(language, [], tmp_path, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert on_path.returncode == 0 and on_path.stdout.rstrip().endswith("done"), on_path.stderr
    missing = run(language, [str(tmp_path / "no-such-service")], tmp_path)
    assert missing.returncode != 0
    assert missing.stderr.startswith("failed:")


def make_token(executable, db):
    """An API token for the admin the glue script bootstrapped, made over the service's own stdio."""
    lines = [{"jsonrpc": "2.0", "id": 1, "method": "session.login", "params": {"email": "ada@example.com", "password": "Admin#1234"}},
             {"jsonrpc": "2.0", "id": 2, "method": "tokens.create", "params": {"name": "glue"}}]
    out = subprocess.run([executable, "--db", str(db)], input="".join(json.dumps(l) + "\n" for l in lines),
                         capture_output=True, text=True, env=dict(os.environ, **SERVICE_ENV), timeout=60)
    return json.loads(out.stdout.splitlines()[1])["result"]["secret"]


@pytest.mark.parametrize("language", SCRIPTS)
def test_the_glue_script_signs_in_with_CREDENTIALS_RPC_TOKEN(language, executable, tmp_path):
    db = tmp_path / "kept.sqlite3"
    assert run(language, [executable], tmp_path, CREDENTIALS_RPC_DB=str(db)).returncode == 0
    secret = make_token(executable, db)
    with_token = run(language, [executable], tmp_path, CREDENTIALS_RPC_DB=str(db), CREDENTIALS_RPC_TOKEN=secret)
    assert with_token.returncode == 0, with_token.stderr
    assert "signed in with CREDENTIALS_RPC_TOKEN as ada@example.com (admin)" in with_token.stdout
    assert with_token.stdout.rstrip().endswith("done")
    assert secret not in with_token.stdout + with_token.stderr
    wrong = "crpc_" + "Q" * 43
    refused = run(language, [executable], tmp_path, CREDENTIALS_RPC_DB=str(db), CREDENTIALS_RPC_TOKEN=wrong)
    assert refused.returncode != 0
    assert "invalid_token" in refused.stderr and wrong not in refused.stderr + refused.stdout
