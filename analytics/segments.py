"""Segment schemes: named groups of RFM cells, loaded from YAML and checked for full coverage.

A scheme file lists segments with a name, a priority, an action, a tactic, a description and the
RFM cells they cover, as boxes of score ranges (``{r: 4-5, f: 1-5, m: 3}``), with their French texts
(``label_fr``, ``action_fr``, ``tactic_fr``, ``description_fr``; optional, the English text stands in for a
missing one). Loading checks that each of the 125 (R, F, M) cells belongs to exactly one segment — there
is no "Other" bucket.

Optional keys for the segment history (analytics/history.py): ``ranking`` (segment names, best state first:
a move towards the front is an upgrade; default: by the mean R + F + M of each segment's cells),
``top_segments`` (default: the first two of the ranking) and ``at_risk_segments`` (default: the segments
of the most urgent priority) — a move from a top segment to an at-risk one is a high-value downgrade.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from analytics.errors import ConfigError

__all__ = ["Segment", "SegmentScheme", "load_scheme", "parse_scheme", "assign_segments"]

DEFAULT_PRIORITIES = ("Critical", "High", "Medium", "Low")
_SCORES = range(1, 6)


@dataclass(frozen=True)
class Segment:
    """One segment of a scheme and what to do about it."""

    name: str
    label_fr: str
    priority: str
    action: str
    tactic: str
    description: str
    cells: frozenset[tuple[int, int, int]]
    action_fr: str = ""  # French texts; "" when the scheme gives none (the dashboard then shows the English)
    tactic_fr: str = ""
    description_fr: str = ""


@dataclass(frozen=True)
class SegmentScheme:
    """A validated scheme: every RFM cell maps to exactly one segment."""

    name: str
    priorities: tuple[str, ...]
    segments: tuple[Segment, ...]
    ranking: tuple[str, ...] = ()  # best first; empty: by mean cell score (see ranked())
    top_segments: tuple[str, ...] = ()
    at_risk_segments: tuple[str, ...] = ()

    def ranked(self) -> tuple[str, ...]:
        """Segment names, best state first: ``ranking``, or by the mean R + F + M of the cells (ties: file order)."""
        if self.ranking:
            return self.ranking
        means = [sum(r + f + m for r, f, m in seg.cells) / len(seg.cells) for seg in self.segments]
        order = sorted(range(len(self.segments)), key=lambda i: (-means[i], i))
        return tuple(self.segments[i].name for i in order)

    def top(self) -> tuple[str, ...]:
        """The high-value segments: ``top_segments`` or the first two of the ranking."""
        return self.top_segments or self.ranked()[:2]

    def at_risk(self) -> tuple[str, ...]:
        """The at-risk segments: ``at_risk_segments`` or those of the most urgent priority."""
        return self.at_risk_segments or tuple(seg.name for seg in self.segments if seg.priority == self.priorities[0])

    def lookup(self) -> np.ndarray:
        """Array ``[r, f, m] -> segment index`` (indices 1..5; index 0 unused, -1)."""
        table = np.full((6, 6, 6), -1, dtype=np.int16)
        for index, segment in enumerate(self.segments):
            for r, f, m in segment.cells:
                table[r, f, m] = index
        return table

    def priority_rank(self, priority: str) -> int:
        """1 for the most urgent priority."""
        return self.priorities.index(priority) + 1

    def table(self) -> pd.DataFrame:
        """segment, label_fr, priority, priority_rank, action, action_fr, tactic, tactic_fr, description,
        description_fr, cells."""
        return pd.DataFrame([
            {"segment": seg.name, "label_fr": seg.label_fr, "priority": seg.priority,
             "priority_rank": self.priority_rank(seg.priority), "action": seg.action, "action_fr": seg.action_fr,
             "tactic": seg.tactic, "tactic_fr": seg.tactic_fr, "description": seg.description,
             "description_fr": seg.description_fr, "cells": len(seg.cells)}
            for seg in self.segments
        ])


def load_scheme(path: str | Path) -> SegmentScheme:
    """Read and validate a scheme YAML file.

    Raises:
        ConfigError: unreadable file, malformed entries, uncovered or doubly covered cells.
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"Cannot read segment scheme {path}: {exc}") from exc
    return parse_scheme(raw, source=str(path))


def parse_scheme(raw: Any, source: str = "<scheme>") -> SegmentScheme:
    """Validate a scheme given as a mapping (the parsed YAML)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("segments"), list) or not raw["segments"]:
        raise ConfigError(f"Segment scheme {source} must be a mapping with a non-empty 'segments' list.")
    priorities = tuple(raw.get("priorities", DEFAULT_PRIORITIES))
    segments = tuple(_parse_segment(entry, i, priorities, source) for i, entry in enumerate(raw["segments"]))
    names = [seg.name for seg in segments]
    if len(set(names)) != len(names):
        raise ConfigError(f"Segment scheme {source} repeats segment names: {sorted(_repeated(names))}.")
    _check_partition(segments, source)
    lists = {key: _names_list(raw.get(key), set(names), f"{key} of {source}")
             for key in ("ranking", "top_segments", "at_risk_segments")}
    if lists["ranking"] and sorted(lists["ranking"]) != sorted(names):
        raise ConfigError(f"ranking of {source} must list every segment once: {sorted(names)}.")
    return SegmentScheme(name=str(raw.get("name", Path(source).stem)), priorities=priorities, segments=segments,
                         **lists)


def _names_list(value: Any, known: set[str], where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or any(str(v) not in known for v in value):
        raise ConfigError(f"{where} must be a list of segment names among {sorted(known)}, got {value!r}.")
    return tuple(str(v) for v in value)


def assign_segments(customers: pd.DataFrame, scheme: SegmentScheme) -> pd.DataFrame:
    """Add a ``segment`` column from r_score, f_score and m_score."""
    index = scheme.lookup()[customers["r_score"].to_numpy(), customers["f_score"].to_numpy(),
                            customers["m_score"].to_numpy()]
    names = np.array([seg.name for seg in scheme.segments], dtype=object)
    return customers.assign(segment=pd.Series(names[index], index=customers.index, dtype="str"))


def _parse_segment(entry: Any, i: int, priorities: tuple[str, ...], source: str) -> Segment:
    where = f"segment #{i + 1} of {source}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a mapping.")
    missing = [k for k in ("name", "priority", "action", "tactic", "cells") if not entry.get(k)]
    if missing:
        raise ConfigError(f"{where} lacks {missing}.")
    unknown = sorted(str(key) for key in set(entry) - _KEYS)
    if unknown:  # e.g. an unquoted text with commas in a {...} entry, which YAML splits into keys
        raise ConfigError(f"{where} ({entry['name']}) has unknown key(s) {unknown}; allowed: {sorted(_KEYS)} "
                          "(quote texts that contain commas).")
    if entry["priority"] not in priorities:
        raise ConfigError(f"{where} ({entry['name']}): priority {entry['priority']!r} "
                          f"is not one of {list(priorities)}.")
    boxes = entry["cells"] if isinstance(entry["cells"], list) else [entry["cells"]]
    cells = frozenset(cell for box in boxes for cell in _expand_box(box, f"{where} ({entry['name']})"))
    french = {key: _text(entry, key, f"{where} ({entry['name']})") for key in _FRENCH}
    return Segment(
        name=str(entry["name"]), label_fr=french["label_fr"] or str(entry["name"]),
        priority=str(entry["priority"]), action=str(entry["action"]), tactic=str(entry["tactic"]),
        description=str(entry.get("description", "")), cells=cells, action_fr=french["action_fr"],
        tactic_fr=french["tactic_fr"], description_fr=french["description_fr"],
    )


_FRENCH = ("label_fr", "action_fr", "tactic_fr", "description_fr")
_KEYS = {"name", "priority", "action", "tactic", "description", "cells", *_FRENCH}


def _text(entry: dict, key: str, where: str) -> str:
    """An optional text of a segment: absent is "", present must be a non-empty string."""
    if key not in entry:
        return ""
    value = entry[key]
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {key} must be a non-empty text, got {value!r}.")
    return value.strip()


def _expand_box(box: Any, where: str) -> list[tuple[int, int, int]]:
    if not isinstance(box, dict) or set(box) - {"r", "f", "m"}:
        raise ConfigError(f"{where}: each cells entry is a mapping with keys r, f, m, got {box!r}.")
    r, f, m = (_score_range(box.get(axis, "1-5"), f"{where} {axis}") for axis in ("r", "f", "m"))
    return list(itertools.product(r, f, m))


def _score_range(spec: Any, where: str) -> range:
    text = str(spec).replace(" ", "")
    try:
        low, _, high = text.partition("-")
        low_i, high_i = int(low), int(high or low)
    except ValueError:
        raise ConfigError(f"{where}: {spec!r} is not a score or a range like 1-5.") from None
    if not 1 <= low_i <= high_i <= 5:
        raise ConfigError(f"{where}: range {spec!r} must lie within 1-5, low ≤ high.")
    return range(low_i, high_i + 1)


def _check_partition(segments: tuple[Segment, ...], source: str) -> None:
    owners: dict[tuple[int, int, int], list[str]] = {}
    for seg in segments:
        for cell in seg.cells:
            owners.setdefault(cell, []).append(seg.name)
    all_cells = list(itertools.product(_SCORES, _SCORES, _SCORES))
    uncovered = [c for c in all_cells if c not in owners]
    doubled = {c: names for c, names in owners.items() if len(names) > 1}
    problems = []
    if uncovered:
        problems.append(f"{len(uncovered)} uncovered cell(s) (R,F,M): {_cells(uncovered)}")
    if doubled:
        problems.append(f"{len(doubled)} cell(s) in several segments: "
                        + "; ".join(f"{_cells([c])} in {names}" for c, names in sorted(doubled.items())[:20]))
    if problems:
        raise ConfigError(f"Segment scheme {source} must put each of the 125 RFM cells in exactly one segment: "
                          + " and ".join(problems) + ".")


def _cells(cells: list[tuple[int, int, int]]) -> str:
    return ", ".join("".join(map(str, c)) for c in sorted(cells))


def _repeated(names: list[str]) -> set[str]:
    return {n for n in names if names.count(n) > 1}
