"""Configuration: one YAML file plus environment variables, turned into frozen dataclasses.

This is the only module that reads the environment. Entry points call :func:`load_settings` once and
hand each stage its own slice (``settings.rfm``, ``settings.rules``, ...).

Precedence: built-in defaults < YAML file < environment variables (see ``ENV_VARS``).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from analytics.errors import ConfigError

__all__ = [
    "PROJECT_ROOT",
    "DEFAULT_CONFIG_FILE",
    "ENV_VARS",
    "Settings",
    "CUTPOINT_METRICS",
    "ENGINES",
    "PARALLEL",
    "load_settings",
]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG_FILE = PROJECT_ROOT / "config" / "settings.yaml"

DEFAULT_SERVICE_CODES = (
    "POST", "DOT", "M", "m", "C2", "D", "S", "B", "CRUK", "BANK CHARGES", "PADS", "AMAZONFEE",
)


@dataclass(frozen=True)
class InputParams:
    """Where the transactions come from and how their columns are named."""

    path: str = str(PROJECT_ROOT / "data" / "online_retail.parquet")
    mapping: Mapping[str, str] = field(default_factory=dict)  # source column -> canonical field
    max_mb: float = 2048.0  # refuse larger input files
    sheet: str | None = None  # XLSX sheet name; required when a workbook has several
    date_format: str | None = None  # strftime format of text dates, e.g. "%d/%m/%Y %H:%M"; None: detect


@dataclass(frozen=True)
class CleaningParams:
    """Which lines count as sales and which codes are not products."""

    service_codes: tuple[str, ...] = DEFAULT_SERVICE_CODES
    service_code_pattern: str = r"^(?:gift_|DCGS)"  # regex for further non-product codes
    cancellation_prefix: str = "C"


@dataclass(frozen=True)
class BasketParams:
    """What counts as a basket for association rules."""

    include_guests: bool = True  # mine baskets of lines without customer id too


@dataclass(frozen=True)
class RfmParams:
    """RFM scoring and activity window."""

    as_of: date | None = None  # default: the day after the last invoice
    active_days: int = 90  # a customer is active if they bought within this many days
    monetary: str = "net"  # M and customer value: net (sales − returns, floored at 0) | gross (sales only)
    scoring: str = "quantiles"  # quantiles (1-5 by quintile, relative) | fixed (cut-points: analytics/cutpoints.py)
    cutpoints: Mapping[str, tuple[float, ...]] = field(default_factory=dict)  # fixed: metric -> 4 ascending bounds
    cutpoints_as_of: date | None = None  # fixed without cutpoints: freeze the quintile bounds of this date


@dataclass(frozen=True)
class HistoryParams:
    """Segment history: every customer's segment at the end of each of the last periods (analytics/history.py)."""

    period: str = "month"  # month | week: the step between two period ends, counted back from the as-of date
    periods: int = 12  # period ends kept, the as-of date included


@dataclass(frozen=True)
class RiskParams:
    """High-value-at-risk detection (formula in docs/SNAPSHOT.md)."""

    min_value_score: float = 0.6  # value = mean of M and F percentiles; "high value" at or above this
    lapse_full: float = 3.0  # recency of this many usual gaps counts as fully lapsed
    min_gap_days: float = 14.0  # floor for a customer's usual gap between orders
    threshold: float = 50.0  # risk score at or above this puts a high-value customer on the at-risk list


@dataclass(frozen=True)
class SegmentParams:
    """Segment scheme file."""

    scheme: str = str(PROJECT_ROOT / "config" / "segments" / "strategic6.yaml")
    top_products: int = 10


@dataclass(frozen=True)
class RulesParams:
    """Association-rule mining (items = product codes, baskets = invoices)."""

    algorithm: str = "numpy"  # numpy (exact, fast: analytics/miner.py) | fpgrowth | apriori (mlxtend)
    min_support: float = 0.01
    min_baskets: int = 10  # and at least this many baskets: guards small data against itemset explosion
    min_confidence: float = 0.2  # 0.2 and max_len 2: best hit rate@10 on three time splits (docs/PERFORMANCE.md)
    min_lift: float = 1.0  # rules kept only when lift is strictly above this
    max_len: int | None = 2  # largest itemset (antecedent + consequent); None (YAML null) or 0: no bound
    max_itemsets: int = 1_000_000  # more frequent itemsets than this stops the refresh with an error (never OOM)
    blocklist: tuple[str, ...] = ()  # stock codes kept out of rules and recommendations (e.g. carrier bags)
    blocklist_pattern: str = ""  # and products whose description matches this regex (case-insensitive)
    segment_rules: bool = True  # also mine each segment's customers' baskets (table segment_rules)


@dataclass(frozen=True)
class RecommendParams:
    """Per-customer recommendations."""

    top_n: int = 10
    scoring: str = "confidence"  # confidence (best rule) | confidence_sum | noisy_or | lift: see docs/PERFORMANCE.md
    fallback: str = "segment_bestseller"  # fill with the segment's best sellers not yet bought | none
    interleave_antecedents: bool = True  # each triggering purchase's best product before any second one
    recent_rules_days: int = 60  # also apply rules mined on the baskets of the last N days only (0: off)
    recent_rules_min_support: float = 0.015  # their support threshold, a share of those recent baskets


@dataclass(frozen=True)
class EvaluationParams:
    """Offline check of the recommendations in every refresh (analytics/evaluate.py)."""

    enabled: bool = True  # recommend from the purchases before the holdout, score against the holdout
    holdout_days: int = 90  # the last days before the analysis date held out
    k: int = 10  # list length scored (hit rate, precision and NDCG at k)
    max_customers: int = 5000  # score a fixed random sample when more customers qualify (0: all)


@dataclass(frozen=True)
class CampaignParams:
    """Audiences with a control group and their measured uplift (analytics/audiences.py, analytics/uplift.py)."""

    control_share: float = 0.10  # default share of an audience held out as control, in (0, 0.5]
    max_members: int = 200_000  # larger audiences are refused
    max_audiences: int = 500  # audiences kept in the store at most (delete old ones to create more)
    target_effect_points: float = 2.0  # warn when the control group cannot detect this uplift (percentage points)
    min_group_size: int = 30  # below this many members in a group, no verdict ("not enough members")


@dataclass(frozen=True)
class PredictiveParams:
    """Predicted customer value (BG/NBD + Gamma-Gamma, analytics/predictive.py) and its backtest."""

    enabled: bool = True  # fit the models in every refresh (costs seconds: docs/PERFORMANCE.md)
    holdout_days: int = 90  # backtest: calibrate until as-of minus this many days, predict them (0: no backtest)
    discount_rate_monthly: float = 0.01  # discount rate per month of the 12-month value (0.01 ≈ 12.7 % a year)


@dataclass(frozen=True)
class StoreParams:
    """Where snapshots are published."""

    url: str = "file://" + str(PROJECT_ROOT / ".store")
    prefix: str = "seg"
    keep: int = 5  # published versions kept
    lock_ttl_s: float = 120.0  # refresh lock expiry; a heartbeat extends it while the job runs
    socket_timeout_s: float = 1.0  # Redis socket timeouts (redis-py's default is 5 s)


@dataclass(frozen=True)
class DashboardParams:
    """Web app behaviour."""

    currency: str = "£"  # symbol, placed where the language puts it (£8,911,408 / 8 911 408 £)
    language: str = "en"  # interface language when neither the URL, the cookie nor the browser asks: en | fr
    version_poll_s: float = 2.0  # how long a worker trusts the current pointer before asking again
    page_size: int = 25
    new_data_poll_s: float = 60.0  # how often an open page asks whether a newer snapshot was published
    cache_dir: str | None = None  # local copies of snapshot tables, shared by the workers (None: system temp dir)


@dataclass(frozen=True)
class SchedulerParams:
    """Scheduled refreshes (python -m jobs.scheduler)."""

    cron: tuple[str, ...] = ()  # crontab expressions, e.g. "0 2 * * *"
    timezone: str = "UTC"
    poll_s: float = 5.0  # how often the scheduler checks for "Refresh now" requests


ENGINES = ("pandas", "spark")
PARALLEL = ("auto", "always", "never")


@dataclass(frozen=True)
class RefreshParams:
    """How the refresh job computes the line-scale aggregates (``python -m jobs.refresh --engine``)."""

    engine: str = "pandas"  # pandas | spark (optional: requirements-spark.txt, README "Spark engine")
    # the forecast, usual products and order lines in a second process, beside the other stages: always, never, or
    # auto: with 2 CPUs or more, at least parallel_min_lines input lines (below, a process costs more than it saves)
    # and parallel_min_available_mb of memory available (it adds up to 1.5 GB at 1 M customers: PERFORMANCE.md 8.8)
    parallel: str = "auto"
    parallel_min_lines: int = 1_000_000
    parallel_min_available_mb: int = 8_000

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ConfigError(f"refresh.engine {self.engine!r} is not one of {list(ENGINES)}.")
        if self.parallel not in PARALLEL:
            raise ConfigError(f"refresh.parallel {self.parallel!r} is not one of {list(PARALLEL)}.")


@dataclass(frozen=True)
class WebParams:
    """Serving, embedding and access control."""

    url_base_pathname: str = "/"
    requests_pathname_prefix: str | None = None
    frame_ancestors: tuple[str, ...] = ("'self'",)
    ops_token: str | None = None
    basic_auth_user: str | None = None
    basic_auth_password: str | None = None
    trusted_user_header: str | None = None  # e.g. X-Forwarded-User set by an SSO proxy
    max_upload_mb: float = 10.0


@dataclass(frozen=True)
class Settings:
    """All configuration, one frozen slice per stage."""

    input: InputParams = field(default_factory=InputParams)
    cleaning: CleaningParams = field(default_factory=CleaningParams)
    baskets: BasketParams = field(default_factory=BasketParams)
    rfm: RfmParams = field(default_factory=RfmParams)
    history: HistoryParams = field(default_factory=HistoryParams)
    risk: RiskParams = field(default_factory=RiskParams)
    segments: SegmentParams = field(default_factory=SegmentParams)
    rules: RulesParams = field(default_factory=RulesParams)
    recommendations: RecommendParams = field(default_factory=RecommendParams)
    evaluation: EvaluationParams = field(default_factory=EvaluationParams)
    campaigns: CampaignParams = field(default_factory=CampaignParams)
    predictive: PredictiveParams = field(default_factory=PredictiveParams)
    store: StoreParams = field(default_factory=StoreParams)
    dashboard: DashboardParams = field(default_factory=DashboardParams)
    scheduler: SchedulerParams = field(default_factory=SchedulerParams)
    web: WebParams = field(default_factory=WebParams)
    refresh: RefreshParams = field(default_factory=RefreshParams)
    log_format: str = "logfmt"  # logfmt (key=value) | json
    config_file: str | None = None

    def analytics_parameters(self) -> dict[str, Any]:
        """The parameters that shape the analytics (recorded in the snapshot meta)."""
        names = ("cleaning", "baskets", "rfm", "history", "risk", "segments", "rules", "recommendations",
                 "evaluation", "campaigns", "predictive")
        return {name: _jsonable(dataclasses.asdict(getattr(self, name))) for name in names}


# Environment variable -> (section, key). Values are strings converted to the key's type; lists are
# comma separated, except REFRESH_CRON (';' between expressions) and FRAME_ANCESTORS (spaces or commas).
ENV_VARS: dict[str, tuple[str, str]] = {
    "INPUT_PATH": ("input", "path"),
    "INPUT_MAX_MB": ("input", "max_mb"),
    "STORE_URL": ("store", "url"),
    "STORE_PREFIX": ("store", "prefix"),
    "STORE_KEEP": ("store", "keep"),
    "REDIS_SOCKET_TIMEOUT": ("store", "socket_timeout_s"),
    "SEGMENT_SCHEME": ("segments", "scheme"),
    "CURRENCY": ("dashboard", "currency"),
    "DASHBOARD_LANGUAGE": ("dashboard", "language"),
    "DASHBOARD_CACHE_DIR": ("dashboard", "cache_dir"),
    "REFRESH_CRON": ("scheduler", "cron"),
    "REFRESH_PARALLEL": ("refresh", "parallel"),
    "SCHEDULER_TIMEZONE": ("scheduler", "timezone"),
    "DASH_URL_BASE_PATHNAME": ("web", "url_base_pathname"),
    "DASH_REQUESTS_PATHNAME_PREFIX": ("web", "requests_pathname_prefix"),
    "FRAME_ANCESTORS": ("web", "frame_ancestors"),
    "OPS_TOKEN": ("web", "ops_token"),
    "BASIC_AUTH_USER": ("web", "basic_auth_user"),
    "BASIC_AUTH_PASSWORD": ("web", "basic_auth_password"),
    "TRUSTED_USER_HEADER": ("web", "trusted_user_header"),
    "LOG_FORMAT": ("", "log_format"),
}
CONFIG_ENV = "CONFIG_FILE"
_SECRET_KEYS = {"ops_token", "basic_auth_password"}


def load_settings(environ: Mapping[str, str] | None = None, path: str | Path | None = None) -> Settings:
    """Build settings from defaults, the YAML file and the environment.

    Args:
        environ: environment mapping (``os.environ`` when None).
        path: YAML file; default ``$CONFIG_FILE`` or ``config/settings.yaml`` when it exists.

    Raises:
        ConfigError: unknown section or key, wrong type, unreadable YAML.
    """
    environ = os.environ if environ is None else environ
    path = path or environ.get(CONFIG_ENV) or (DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.exists() else None)
    raw = _read_yaml(Path(path)) if path else {}
    for var, (section, key) in ENV_VARS.items():
        if environ.get(var, "") == "":
            continue
        target = raw.setdefault(section, {}) if section else raw
        if not isinstance(target, dict):
            raise ConfigError(f"Config section '{section}' must be a mapping.")
        target[key] = environ[var]
    return _build(Settings, raw, where="config", config_file=str(path) if path else None)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"Config file not found: {path}") from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"Cannot read config file {path}: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"Config file {path} must contain a mapping of sections, got {type(data).__name__}.")
    return data


def _build(cls: type, raw: Mapping[str, Any], where: str, **extra: Any) -> Any:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"'{where}' must be a mapping, got {raw!r}.")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"Unknown key(s) {unknown} in '{where}'; allowed: {sorted(known)}.")
    values: dict[str, Any] = {}
    for name, value in raw.items():
        factory = known[name].default_factory
        default = factory() if callable(factory) else known[name].default
        if dataclasses.is_dataclass(default):
            values[name] = _build(type(default), value or {}, where=f"{where}.{name}")
        elif value is None and "None" in str(known[name].type):
            values[name] = None  # an optional key set to null: "no value", not the default
        else:
            values[name] = _coerce(value, default, f"{where}.{name}")
    return cls(**values, **extra)


def _coerce(value: Any, default: Any, where: str) -> Any:
    """Coerce a YAML/env value to the type of the field's default."""
    if value is None:
        return default
    if where.endswith(".cutpoints"):
        return _cutpoints(value, where)
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                return value.strip().lower() in {"1", "true", "yes", "on"}
            return bool(value)
        if isinstance(default, tuple):
            items = value if isinstance(value, (list, tuple)) else _split_list(str(value), where)
            return tuple(str(item) for item in items)
        if isinstance(default, Mapping):
            if not isinstance(value, Mapping):
                raise TypeError("expected a mapping")
            return {str(k): str(v) for k, v in value.items()}
        if isinstance(default, float):
            return float(value)
        if isinstance(default, int):
            return int(value)
        if where.endswith("as_of"):
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Invalid value {value!r} for '{where}': {exc}.") from exc


CUTPOINT_METRICS = ("recency_days", "frequency", "monetary")


def _cutpoints(value: Any, where: str) -> dict[str, tuple[float, ...]]:
    """``{recency_days: [4 numbers], frequency: [...], monetary: [...]}``: each list 4 ascending numbers ≥ 0."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"'{where}' must be a mapping of {list(CUTPOINT_METRICS)} to 4 numbers, got {value!r}.")
    unknown = sorted(set(map(str, value)) - set(CUTPOINT_METRICS))
    if unknown:
        raise ConfigError(f"Unknown key(s) {unknown} in '{where}'; allowed: {list(CUTPOINT_METRICS)}.")
    found: dict[str, tuple[float, ...]] = {}
    for metric, bounds in value.items():
        try:
            numbers = tuple(float(b) for b in bounds)
        except (TypeError, ValueError):
            numbers = ()
        if len(numbers) != 4 or any(not 0 <= b < float("inf") for b in numbers) or list(numbers) != sorted(numbers):
            raise ConfigError(f"'{where}.{metric}' must be 4 ascending numbers ≥ 0 (the bounds between scores "
                              f"1-2, 2-3, 3-4 and 4-5), got {bounds!r}.")
        found[str(metric)] = numbers
    return found


def _split_list(text: str, where: str) -> list[str]:
    """Split an environment list: cron lines on ';', CSP sources on spaces/commas, others on commas."""
    if where.endswith(".cron"):
        parts = re.split(r"[;\n]", text)
    elif where.endswith(".frame_ancestors"):
        parts = re.split(r"[\s,]+", text)
    else:
        parts = text.split(",")
    return [part.strip() for part in parts if part.strip()]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if k not in _SECRET_KEYS}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value
