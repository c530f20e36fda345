"""Settings come from defaults, a TOML file, the environment and explicit overrides, in that order."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lanportfolj.config import load_settings

pytestmark = pytest.mark.unit


def test_defaults_use_an_sqlite_file_in_the_working_directory():
    settings = load_settings(environ={})
    assert settings.database_url == "sqlite:///lanportfolj.db"
    assert settings.discount_bp == Decimal("2")
    assert settings.max_upload_bytes == 10 * 1024 * 1024


def test_environment_overrides_file_and_overrides_win(tmp_path):
    cfg = tmp_path / "lanportfolj.toml"
    cfg.write_text('database_url = "sqlite:///from-file.db"\ndiscount_bp = 3\ndevelopment = true\n')
    env = {"LANPORTFOLJ_CONFIG": str(cfg), "LANPORTFOLJ_DISCOUNT_BP": "2.5"}
    settings = load_settings(environ=env)
    assert settings.database_url == "sqlite:///from-file.db"
    assert settings.discount_bp == Decimal("2.5")
    assert settings.development is True
    assert load_settings(environ=env, database_url="sqlite://").database_url == "sqlite://"


def test_unknown_setting_in_file_is_named(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("databse_url = 'x'\n")
    with pytest.raises(ValueError, match="databse_url"):
        load_settings(environ={}, config_file=cfg)


def test_bad_language_is_refused():
    with pytest.raises(ValueError, match="default_language"):
        load_settings(environ={"LANPORTFOLJ_DEFAULT_LANGUAGE": "de"})
