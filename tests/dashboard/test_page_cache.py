"""One caching layer: what pages build from a version is memoized in dashboard.data and dropped with it."""

from __future__ import annotations

from dashboard import data


def test_built_once_per_version_and_rebuilt_after_a_version_change(dash_app, in_request):
    calls: list[tuple[str, str]] = []

    @data.by_version
    def build(version: str, name: str) -> list[str]:
        calls.append((version, name))
        return [version, name]

    version = data.current_version()
    assert version is not None
    first = build(version, "a")
    assert build(version, "a") is first  # the same object: built once
    build(version, "b")
    assert calls == [(version, "a"), (version, "b")]
    data._evict(keep={version})  # what serving a new version does (its tables are kept, page entries are not)
    assert build(version, "a") is not first
    assert calls == [(version, "a"), (version, "b"), (version, "a")]
