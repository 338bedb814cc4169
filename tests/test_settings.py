from pathlib import Path

import pytest

from newsflow.extractors.settings import Settings, load_settings


def test_defaults_without_environment():
    assert load_settings({}) == Settings()


def test_environment_overrides_each_section_with_its_type():
    settings = load_settings({
        "NEWSFLOW_DB": "/data/news.duckdb",
        "NEWSFLOW_BATCH_SIZE": "50",
        "NEWSFLOW_EXTRACT_TIMEOUT_S": "2.5",
        "NEWSFLOW_ALLOW_PRIVATE": "yes",
        "NEWSFLOW_NER_MODEL": "en_core_web_md",
        "NEWSFLOW_ARCHIVE": "/data/archive",
    })
    assert settings.paths.db == Path("/data/news.duckdb") and settings.paths.archive == Path("/data/archive")
    assert settings.limits.batch_size == 50 and settings.limits.extract_timeout_s == 2.5
    assert settings.http.allow_private is True and settings.ner.ner_model == "en_core_web_md"


def test_bad_values_fail_loudly():
    with pytest.raises(ValueError, match="NEWSFLOW_ALLOW_PRIVATE"):
        load_settings({"NEWSFLOW_ALLOW_PRIVATE": "maybe"})
    with pytest.raises(ValueError):
        load_settings({"NEWSFLOW_BATCH_SIZE": "many"})


def test_archive_and_quarantine_default_beside_the_inbox(tmp_path):
    paths = Settings().paths
    assert paths.archive_dir(tmp_path / "inbox") == tmp_path / "archive"
    assert paths.quarantine_dir(tmp_path / "inbox") == tmp_path / "quarantine"
