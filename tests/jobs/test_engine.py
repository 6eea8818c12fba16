"""Choosing the refresh engine: by YAML or --engine, pandas by default, Spark only when asked for and installed;
the default suite and install never import pyspark."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from analytics.engines import PandasEngine
from analytics.errors import ConfigError
from analytics.settings import PROJECT_ROOT, load_settings
from jobs.engine import make_engine
from jobs.refresh import build_parser, settings_from_args


def test_pandas_is_the_default():
    settings = load_settings({})
    assert settings.refresh.engine == "pandas"
    assert isinstance(make_engine(settings.refresh.engine), PandasEngine)


def test_yaml_and_command_line_choose_the_engine(tmp_path):
    config = tmp_path / "settings.yaml"
    config.write_text("refresh:\n  engine: spark\n", encoding="utf-8")
    assert load_settings({}, config).refresh.engine == "spark"
    args = build_parser().parse_args(["--config", str(config), "--engine", "pandas"])
    assert settings_from_args(args, {}).refresh.engine == "pandas"


def test_unknown_engine_names_the_allowed_ones(tmp_path):
    config = tmp_path / "settings.yaml"
    config.write_text("refresh:\n  engine: dask\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape("refresh.engine 'dask' is not one of ['pandas', 'spark']")):
        load_settings({}, config)
    with pytest.raises(ConfigError, match="is not one of"):
        make_engine("dask")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--engine", "dask"])


def test_spark_without_pyspark_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "analytics_spark.engine", None)  # as if pyspark were not installed
    with pytest.raises(ConfigError, match="requirements-spark.txt"):
        make_engine("spark")


def test_no_default_module_imports_pyspark():
    """pyspark is imported only by analytics_spark/ and tests/spark/ (make test-spark)."""
    importing = re.compile(r"^\s*(from|import)\s+(pyspark|analytics_spark)\b", re.MULTILINE)
    offenders = []
    for folder in ("analytics", "jobs", "dashboard", "bench", "tests"):
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            relative = path.relative_to(PROJECT_ROOT)
            if relative.parts[:2] == ("tests", "spark") or relative == Path("bench/engines.py"):
                continue
            found = importing.search(path.read_text(encoding="utf-8"))
            if found and not (relative == Path("jobs/engine.py") and found.group(2) == "analytics_spark"):
                offenders.append(str(relative))
    assert offenders == []
