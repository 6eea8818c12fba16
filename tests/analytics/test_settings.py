"""Settings: defaults < YAML < environment, with clear errors."""

from datetime import date

import pytest

from analytics.errors import ConfigError
from analytics.settings import DEFAULT_CONFIG_FILE, load_settings


def test_defaults_from_shipped_yaml():
    settings = load_settings({})
    assert settings.config_file == str(DEFAULT_CONFIG_FILE)
    assert settings.rules.min_support == 0.01
    assert settings.rfm.active_days == 90
    assert settings.store.url.startswith("file://") and settings.store.url.endswith("/.store")
    assert settings.segments.scheme.endswith("strategic6.yaml")


def test_yaml_then_environment(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("rules: {min_support: 0.02, max_len: 2}\nrfm: {as_of: 2011-12-10}\n"
                    "input: {mapping: {Bon: invoice}}\nstore: {url: file:///tmp/x}\n", encoding="utf-8")
    settings = load_settings({"STORE_URL": "redis://localhost:6380/0", "REFRESH_CRON": "0 2 * * *;*/5 * * * *",
                              "FRAME_ANCESTORS": "'self' https://intranet.example.com", "STORE_KEEP": "3"}, path)
    assert settings.rules.min_support == 0.02 and settings.rules.max_len == 2
    assert settings.rfm.as_of == date(2011, 12, 10)
    assert settings.input.mapping == {"Bon": "invoice"}
    assert settings.store.url == "redis://localhost:6380/0" and settings.store.keep == 3
    assert settings.scheduler.cron == ("0 2 * * *", "*/5 * * * *")
    assert settings.web.frame_ancestors == ("'self'", "https://intranet.example.com")


def test_config_file_from_environment(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("recommendations: {top_n: 5}\n", encoding="utf-8")
    assert load_settings({"CONFIG_FILE": str(path)}).recommendations.top_n == 5


@pytest.mark.parametrize("text, message", [
    ("rules: {min_suport: 0.1}\n", r"Unknown key\(s\) \['min_suport'\] in 'config.rules'"),
    ("rulez: {}\n", r"Unknown key\(s\) \['rulez'\] in 'config'"),
    ("rules: {min_support: lots}\n", r"Invalid value 'lots' for 'config.rules.min_support'"),
    ("- a\n- b\n", "must contain a mapping of sections"),
    ("rules: [unclosed\n", "Cannot read config file"),
])
def test_bad_yaml_is_a_clear_error(tmp_path, text, message):
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings({}, path)


def test_missing_config_file():
    with pytest.raises(ConfigError, match="Config file not found"):
        load_settings({}, "/nonexistent/settings.yaml")


def test_secrets_are_not_recorded_in_parameters():
    settings = load_settings({"OPS_TOKEN": "s3cret"})
    assert settings.web.ops_token == "s3cret"
    assert "s3cret" not in str(settings.analytics_parameters())
