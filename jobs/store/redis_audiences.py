"""Audiences in Redis: ``<prefix>:audience:<id>`` (the JSON record) and ``<prefix>:audiences`` (index hash).

Both keys are written and deleted together by one Lua script each, so a reader sees an audience whole or
not at all. They sit outside ``<prefix>:snap:*``: snapshot publication and clean-up never touch them.
"""

from __future__ import annotations

import logging
from typing import Any

from analytics.audiences import (
    Audience,
    audience_json,
    check_audience_id,
    parse_audience,
    summary,
)
from analytics.errors import AudienceError, SnapshotError
from jobs.store.common import _parse_json, _to_json

log = logging.getLogger("jobs.store")

# KEYS: index hash, record. ARGV: id, summary json, record json, max. -> 1 saved | 0 id taken | -1 full
_LUA_SAVE = """
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' and redis.call('EXISTS', KEYS[1]) == 1 then redis.call('DEL', KEYS[1]) end
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then return -1 end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""
# KEYS: index hash, record. ARGV: id. -> 1 deleted | 0 unknown
_LUA_DELETE = """
local n = redis.call('DEL', KEYS[2])
if redis.call('TYPE', KEYS[1]).ok == 'hash' then n = n + redis.call('HDEL', KEYS[1], ARGV[1]) end
if n > 0 then return 1 end
return 0
"""


class RedisAudiences:
    """Audience methods of :class:`jobs.store.RedisStore` (uses its client, key builder and error mapping)."""

    _client: Any
    _key: Any  # RedisStore._key
    _errors: Any  # RedisStore._errors

    def _audience_script(self, name: str) -> Any:
        scripts = self.__dict__.setdefault("_audience_scripts", {})
        if name not in scripts:
            scripts[name] = self._client.register_script(_LUA_SAVE if name == "save" else _LUA_DELETE)
        return scripts[name]

    def save_audience(self, audience: Audience, max_audiences: int) -> None:
        """Save a new audience (record + index entry, atomically).

        Raises:
            AudienceError: the id exists already, or ``max_audiences`` are stored.
            StoreUnavailableError: Redis cannot be reached.
        """
        keys = [self._key("audiences"), self._key("audience", audience=audience.audience_id)]
        args = [audience.audience_id, _to_json(summary(audience), "audience summary"), audience_json(audience),
                max_audiences]
        with self._errors():
            status = self._audience_script("save")(keys=keys, args=args)
        _check_saved(status, audience.audience_id, max_audiences)

    def audience(self, audience_id: str) -> Audience:
        """The full audience (members included). Raises AudienceError if unknown or malformed."""
        key = self._key("audience", audience=check_audience_id(audience_id))
        with self._errors(key):
            raw = self._client.get(key)
        if raw is None:
            raise AudienceError(f"No audience {audience_id}.")
        return parse_audience(raw)

    def audiences(self) -> list[dict]:
        """Summaries of every audience (no members), newest first. Malformed entries are skipped with a warning."""
        key = self._key("audiences")
        with self._errors(key):
            raw = self._client.hgetall(key)
        found = []
        for audience_id, blob in raw.items():
            try:
                found.append(_parse_json(blob, "audience summary"))
            except SnapshotError as exc:
                log.warning("Skipping audience %r: %s", audience_id, exc)
        return sorted(found, key=lambda item: str(item.get("created_at", "")), reverse=True)

    def delete_audience(self, audience_id: str) -> bool:
        """Delete an audience; False if it did not exist."""
        keys = [self._key("audiences"), self._key("audience", audience=check_audience_id(audience_id))]
        with self._errors():
            return self._audience_script("delete")(keys=keys, args=[audience_id]) == 1


def _check_saved(status: int, audience_id: str, max_audiences: int) -> None:
    if status == 0:
        raise AudienceError(f"Audience {audience_id} exists already; audiences are never overwritten.")
    if status == -1:
        raise AudienceError(f"The store holds {max_audiences} audiences already (campaigns.max_audiences); "
                            "delete old ones first.")
