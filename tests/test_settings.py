from pathlib import Path

import pytest

from pingyi.settings import SettingsError, load_settings


def test_defaults_are_safe(tmp_path: Path) -> None:
    settings = load_settings({"PINGYI_DATA_DIR": str(tmp_path)})
    assert settings.database_url == "sqlite:///pingyi.db"
    assert not settings.is_postgres
    assert settings.language == "zh-CN"
    assert settings.redis_url is None
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.cookie_secure is False
    assert len(settings.secret_key) >= 32


def test_generated_secret_is_kept_between_starts(tmp_path: Path) -> None:
    first = load_settings({"PINGYI_DATA_DIR": str(tmp_path)}).secret_key
    second = load_settings({"PINGYI_DATA_DIR": str(tmp_path)}).secret_key
    assert first == second
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="PINGYI_SECRET_KEY is required"):
        load_settings({"PINGYI_PRODUCTION": "1", "PINGYI_DATA_DIR": str(tmp_path)})


def test_production_defaults_to_secure_cookies() -> None:
    settings = load_settings({"PINGYI_PRODUCTION": "1", "PINGYI_SECRET_KEY": "k" * 40})
    assert settings.cookie_secure is True


def test_short_secret_is_refused() -> None:
    with pytest.raises(SettingsError, match="at least 32"):
        load_settings({"PINGYI_SECRET_KEY": "short"})


def test_postgres_url_selects_postgres() -> None:
    settings = load_settings(
        {
            "PINGYI_DATABASE_URL": "postgresql://u@db:5432/p",
            "PINGYI_SECRET_KEY": "k" * 40,
            "PINGYI_REDIS_URL": "redis://127.0.0.1:6379/0",
            "PINGYI_LANGUAGE": "en",
        }
    )
    assert settings.is_postgres
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.language == "en"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PINGYI_DATABASE_URL": "mysql://x"}, "must start with"),
        ({"PINGYI_LANGUAGE": "fr"}, "PINGYI_LANGUAGE"),
        ({"PINGYI_TICKET_TTL_HOURS": "a day"}, "whole number"),
    ],
)
def test_bad_values_name_the_setting(env: dict[str, str], message: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({"PINGYI_DATA_DIR": str(tmp_path), **env})
