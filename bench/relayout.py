"""Copy a file store, re-encoding its current snapshot's tables with the row groups the refresh now writes.

    python -m bench.relayout /work/data/store-1m /tmp/store-1m

A snapshot published before ``analytics.snapshot.ROW_GROUP_ROWS`` has one row group per million rows; a
refresh of the 1 M-customer file takes ~15 minutes, this copy a minute or two. Rows, columns and their
order are unchanged (streamed batch by batch); the manifest gets the new sizes and digests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import pyarrow.parquet as pq

from analytics.snapshot import ROW_GROUP_ROWS

__all__ = ["relayout", "main"]


def _rewrite(src: Path, dst: Path) -> None:
    source = pq.ParquetFile(src)
    with pq.ParquetWriter(dst, source.schema_arrow, compression="zstd") as writer:
        for batch in source.iter_batches(batch_size=ROW_GROUP_ROWS):
            writer.write_batch(batch, row_group_size=ROW_GROUP_ROWS)


def relayout(src: Path, dst: Path) -> str:
    """Copy the file store ``src`` to ``dst`` (which must not exist) with its current version re-encoded."""
    version = (src / "current").read_text().strip()
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.lock", "snapshots"))
    (dst / "snapshots" / version).mkdir(parents=True)
    manifest = json.loads((src / "snapshots" / version / "manifest.json").read_text())
    for name, entry in manifest["tables"].items():
        target = dst / "snapshots" / version / f"{name}.parquet"
        _rewrite(src / "snapshots" / version / f"{name}.parquet", target)
        data = target.read_bytes()
        entry.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
        print(f"{name}: {entry['rows']:,} rows, {pq.ParquetFile(target).metadata.num_row_groups} row groups",
              flush=True)
    (dst / "snapshots" / version / "manifest.json").write_text(json.dumps(manifest))
    (dst / "versions.json").write_text(json.dumps([version]))
    return version


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.relayout", description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    args = parser.parse_args(argv)
    print(relayout(args.source, args.target))
    return 0


if __name__ == "__main__":
    sys.exit(main())
