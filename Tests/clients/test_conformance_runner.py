"""Protocol/run-conformance.py replays every vector against the built service, and notices a
vector the service does not meet."""

import shutil
import subprocess
import sys

from conftest import ROOT

RUNNER = ROOT / "Protocol" / "run-conformance.py"


def test_every_vector_passes(executable):
    done = subprocess.run([sys.executable, str(RUNNER), executable], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout
    passed, failed = done.stdout.splitlines()[-1].replace(",", "").split()[0::2]
    assert int(failed) == 0 and int(passed) >= 250, done.stdout


def test_a_mismatch_is_reported_and_fails_the_run(executable, tmp_path):
    vector = tmp_path / "tampered.txt"
    shutil.copy(ROOT / "Protocol" / "conformance" / "05-discovery.txt", vector)
    text = vector.read_text().replace('"schemaVersion":', '"schemaVersion":1000', 1)
    vector.write_text(text + '--> {"jsonrpc":"2.0","method":"service.info"}\n<-- {"jsonrpc":"2.0","id":null,"result":{}}\n')
    done = subprocess.run([sys.executable, str(RUNNER), executable, str(vector)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stdout.splitlines()[-1] == "3 passed, 2 failed", done.stdout
    assert "FAIL tampered.txt:5" in done.stdout
