"""What the predictions stage costs: pymc-marketing import, first (cold) and cached (warm) fits.

Each measurement runs in a fresh interpreter. Cold = an empty pytensor compile cache (a temporary
``base_compiledir``): pytensor generates and compiles C with gcc; warm = the cache of a previous run
(~/.pytensor). Usage: ``python -m bench.predictive`` (prints one line per measurement, seconds).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from analytics.settings import PROJECT_ROOT

_PROBE = r"""
import json, time
start = time.perf_counter()
import pymc_marketing.clv  # noqa: F401
imported = time.perf_counter()
import pandas as pd
from analytics.predictive import fit_bgnbd, fit_gamma_gamma
raw = pd.read_csv("tests/data/cdnow_summary.csv")
data = pd.DataFrame({"customer_id": raw["ID"].astype(str), "frequency": raw["x"], "recency": raw["t_x"],
                     "T": raw["T"], "monetary_value": raw["zbar"]})
t0 = time.perf_counter(); fit_bgnbd(data); t1 = time.perf_counter(); fit_gamma_gamma(data); t2 = time.perf_counter()
print(json.dumps({"import_s": imported - start, "bgnbd_fit_s": t1 - t0, "gamma_gamma_fit_s": t2 - t1}))
"""


def measure(env: dict[str, str]) -> dict[str, float]:
    """One probe in a fresh interpreter with ``env`` added to the environment."""
    out = subprocess.run([sys.executable, "-c", _PROBE], cwd=PROJECT_ROOT, env={**os.environ, **env},
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    """Cold (empty compile cache) then warm (the same cache again)."""
    with tempfile.TemporaryDirectory(prefix="pytensor-") as cache:
        flags = {"PYTENSOR_FLAGS": f"base_compiledir={cache}"}
        for label in ("cold", "warm", "warm"):
            result = measure(flags)
            print(label, " ".join(f"{k}={v:.2f}" for k, v in result.items()), flush=True)


if __name__ == "__main__":
    main()
