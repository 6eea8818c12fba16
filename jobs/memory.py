"""Handing the memory a refresh stage freed back to the system, so the next stage's peak does not stack on it.

Arrow's pool (mimalloc) and glibc's heap keep freed blocks for reuse: at 1 M customers they held about
600 MB after loading and 200 MB after cleaning that no frame used any more (docs/PERFORMANCE.md, section 8).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

__all__ = ["available_mb", "release_memory", "reuse_freed_memory"]

_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4  # glibc's mallopt parameters (<malloc.h>)


def _glibc(name: str) -> Callable[..., int] | None:
    """The C library's function ``name`` where it is glibc's (None elsewhere: macOS, musl)."""
    try:
        return getattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), name)
    except (OSError, AttributeError):
        return None


_TRIM = _glibc("malloc_trim")
_MALLOPT = _glibc("mallopt")


def reuse_freed_memory() -> None:
    """Let glibc's heap keep the large blocks this process frees for its next allocations, until
    :func:`release_memory` returns them.

    By default each array over 32 MB is mapped fresh and unmapped when freed, and the system zeroes every new page
    (as 2 MB pages: numpy asks for them): at 1 M customers that zeroing alone took 17 s of the refresh's 129 s of
    CPU (docs/PERFORMANCE.md, 8.8). A no-op where glibc is not the C library.
    """
    if _MALLOPT is not None:
        _MALLOPT(_M_MMAP_MAX, 0)  # large blocks from the heap too, not from mappings of their own
        _MALLOPT(_M_TRIM_THRESHOLD, 2 ** 28)  # up to 256 MiB of free heap top kept until release_memory


def release_memory() -> None:
    """Return the freed blocks of Arrow's memory pool and of the C heap to the system (a few milliseconds)."""
    pa.default_memory_pool().release_unused()
    if _TRIM is not None:
        _TRIM(0)


def available_mb(meminfo: Path = Path("/proc/meminfo"), cgroup: Path = Path("/sys/fs/cgroup")) -> float | None:
    """Memory the job may still take, in MiB: the machine's available memory (``MemAvailable``), or less under a
    container's limit (cgroup v2 ``memory.max`` − ``memory.current``); None where neither can be read (not Linux)."""
    found = []
    try:
        fields = dict(line.split(":", 1) for line in meminfo.read_text().splitlines() if ":" in line)
        found.append(int(fields["MemAvailable"].split()[0]) / 1024)
    except (OSError, KeyError, ValueError):
        pass
    try:
        limit = (cgroup / "memory.max").read_text().strip()
        if limit != "max":
            found.append((int(limit) - int((cgroup / "memory.current").read_text())) / 2 ** 20)
    except (OSError, ValueError):
        pass
    return min(found) if found else None
