"""The WSGI module builds the app with the garbage collector paused, then freezes what it built; DuckDB waits
for the first query."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_app_leaves_the_collector_on_and_the_app_frozen(tmp_path):
    code = ("import gc, json, sys; import dashboard.wsgi as w; "
            "print(json.dumps({'enabled': gc.isenabled(), 'frozen': gc.get_freeze_count(), "
            "'server': type(w.server).__name__, 'duckdb': 'duckdb' in sys.modules}))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"STORE_URL": f"file://{tmp_path}", "PATH": "/usr/bin:/bin"})  # importing opens no store
    assert done.returncode == 0, done.stderr[-2000:]
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["enabled"] and state["server"] == "Flask"
    assert state["frozen"] > 100_000  # the libraries' and the app's objects: later collections skip them
    assert not state["duckdb"]  # imported on the first query: the first page needs none
