"""`migrator sandbox` as a user runs it: URL first on stdout, serves, stops cleanly on Ctrl-C."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path


def test_cli_serves_and_stops_cleanly_on_sigint(seed_dir: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "migrator", "sandbox", "--seed", str(seed_dir), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        request = urllib.request.Request(f"{url}/orgs/acme/repos", headers={"Authorization": "token tok-read"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert len(json.loads(response.read())) == 6
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert "Traceback" not in err


def test_cli_refuses_a_missing_seed(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "migrator", "sandbox", "--seed", str(tmp_path / "nope")],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2
    assert "does not exist" in result.stderr
