"""Imported by the workers' fork server: runs a throw-away page through extraction and cleaning, which loads the
lexicons and the language model and pays every first-use cost once, so no forked worker pays them again."""
from newsflow.extractors.html import quiet_extractor_logs
from newsflow.extractors.memory import freeze_for_workers
from newsflow.extractors.settings import load_settings
from newsflow.extractors.warming import warm_page_stages

quiet_extractor_logs()
_settings = load_settings()
warm_page_stages(_settings.limits, _settings.dedup)
freeze_for_workers()
