"""Audiences in both stores: saved beside the snapshots, never overwritten, never collected with old versions."""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import pytest

from analytics.audiences import build_audience
from analytics.errors import AudienceError, StoreUnavailableError
from analytics.settings import StoreParams
from jobs.store import key_for, open_store
from tests.jobs.test_store import PREFIX, Backend, publish
from tests.jobs.test_store import backend as backend  # noqa: F401 - the file/redis fixture, reused

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=timezone.utc)


def audience(name: str = "Spring", n: int = 40, minute: int = 0):
    frame = pd.DataFrame({"customer_id": [str(12000 + i) for i in range(n)], "segment": ["A", "B"] * (n // 2)})
    return build_audience(frame, name=name, note="mail", control_share=0.25, created_by="ann", snapshot_version="v1",
                          source="segment A", max_members=1000, now=NOW.replace(minute=minute))


def test_save_read_list_delete(backend: Backend) -> None:
    store = backend.make()
    assert store.audiences() == []
    first, second = audience("First", minute=1), audience("Second", minute=2)
    store.save_audience(first, max_audiences=10)
    store.save_audience(second, max_audiences=10)
    assert [item["name"] for item in store.audiences()] == ["Second", "First"]  # newest first
    listed = store.audiences()[1]
    assert listed["members"] == 40 and listed["target"] + listed["control"] == 40 and "customer_id" not in listed
    back = store.audience(first.audience_id)
    assert back.members.equals(first.members) and back.created_by == "ann"
    with pytest.raises(AudienceError, match="exists already"):
        store.save_audience(first, max_audiences=10)
    assert store.delete_audience(first.audience_id) is True
    assert store.delete_audience(first.audience_id) is False
    with pytest.raises(AudienceError, match="No audience"):
        store.audience(first.audience_id)
    assert [item["name"] for item in store.audiences()] == ["Second"]


def test_the_audience_limit_is_enforced(backend: Backend) -> None:
    store = backend.make()
    store.save_audience(audience("One"), max_audiences=1)
    with pytest.raises(AudienceError, match="max_audiences"):
        store.save_audience(audience("Two"), max_audiences=1)


def test_snapshot_publication_and_clean_up_keep_audiences(backend: Backend) -> None:
    store = backend.make(keep=1)
    kept = audience()
    store.save_audience(kept, max_audiences=10)
    for n in range(1, 4):  # keep=1: each publish collects the previous version
        publish(store, f"v{n}")
    assert store.versions() == ["v3"]
    assert store.audience(kept.audience_id).members.equals(kept.members)
    assert [item["audience_id"] for item in store.audiences()] == [kept.audience_id]


def test_invalid_ids_never_reach_a_key_or_path(backend: Backend) -> None:
    store = backend.make()
    for bad in ("../../etc/passwd", "aud-*", "seg:current"):
        with pytest.raises(AudienceError, match="Invalid audience id"):
            store.audience(bad)
        with pytest.raises(AudienceError):
            store.delete_audience(bad)


def test_redis_keys_sit_outside_the_snapshot_namespace(redis_url: str) -> None:
    assert key_for(PREFIX, "audience", audience="aud-0123456789ab") == "t:audience:aud-0123456789ab"
    assert key_for(PREFIX, "audiences") == "t:audiences"
    assert not key_for(PREFIX, "audience", audience="aud-0123456789ab").startswith(key_for(PREFIX, "snaps")[:-1])


def test_a_corrupt_record_is_an_audience_error(backend: Backend) -> None:
    store = backend.make()
    saved = audience()
    store.save_audience(saved, max_audiences=10)
    if backend.kind == "file":
        (backend.root / "audiences" / f"{saved.audience_id}.json").write_text("{not json")
    else:
        with backend.redis() as client:
            client.set(key_for(PREFIX, "audience", audience=saved.audience_id), b"{not json")
    with pytest.raises(AudienceError, match="malformed"):
        store.audience(saved.audience_id)


def test_redis_down_is_store_unavailable(redis_server_factory) -> None:
    server = redis_server_factory()
    store = open_store(StoreParams(url=server.url, prefix=PREFIX))
    server.stop()
    with pytest.raises(StoreUnavailableError):
        store.audiences()
    with pytest.raises(StoreUnavailableError):
        store.save_audience(audience(), max_audiences=10)
