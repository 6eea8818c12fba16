"""Nothing that can come from outside is ever unpickled: the store holds Parquet and JSON only."""

from __future__ import annotations

import subprocess
import sys

from analytics.settings import PROJECT_ROOT


def test_no_pickle_and_no_unsafe_yaml_anywhere_in_the_code():
    # S301: pickle/marshal loads; S403: importing pickle-like modules; S506: yaml.load without SafeLoader
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--preview",
                             "--select", "S301,S403,S506",
                             "analytics", "jobs", "dashboard", "bench"],
                            cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr

