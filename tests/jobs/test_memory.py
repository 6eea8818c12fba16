"""The job's C heap reuses what a stage frees, and returns it between stages (jobs/memory.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

_FAULTS = """
import json, resource, sys
import numpy as np
from jobs.memory import release_memory, reuse_freed_memory
np._core.multiarray._set_madvise_hugepage(False)  # 4 KiB pages: one fault per page touched the first time
if sys.argv[1] == "reuse":
    reuse_freed_memory()

def faults_of_a_fresh_array():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    array = np.ones(100 * 2 ** 20 // 8)  # 100 MiB, written whole
    del array
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

faults_of_a_fresh_array()
again = faults_of_a_fresh_array()  # the same size once more, after the first was freed
release_memory()
after_release = faults_of_a_fresh_array()
print(json.dumps({"again": again, "after_release": after_release}))
"""


def _faults(mode: str) -> dict[str, int]:
    out = subprocess.run([sys.executable, "-c", _FAULTS, mode], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_a_freed_array_is_reused_until_the_memory_is_released():
    pages = 100 * 2 ** 20 // 4096
    default, reused = _faults("default"), _faults("reuse")
    assert default["again"] > pages * 0.9  # by default each large array is mapped, and zeroed, afresh
    assert reused["again"] < pages * 0.05  # kept in the heap: its pages are already there
    assert reused["after_release"] > pages * 0.9  # release_memory handed them back to the system


def test_a_failed_refresh_returns_its_memory_too(tmp_path, monkeypatch):
    from jobs import refresh

    released = []
    monkeypatch.setattr(refresh, "release_memory", lambda: released.append("now"))
    bad = tmp_path / "bad.csv"
    bad.write_text("InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice\n1,A,1,2011-01-01,2.0\n", encoding="utf-8")
    assert refresh.main(["--store", "file://" + str(tmp_path / "store"), "--input", str(bad)]) == 2
    assert released  # the scheduler runs refreshes in its own long-lived process
