"""Imported by the workers' fork server: loads the lexicons and the language model once for every worker, and
runs a throw-away page through extraction and cleaning so no forked worker pays a first-use cost."""
from extractors.html import quiet_extractor_logs
from extractors.language import detect_language
from extractors.lines import load_lexicon
from extractors.settings import load_settings
from extractors.warming import warm_page_stages

quiet_extractor_logs()
load_lexicon()
detect_language("The fork server loads the language model once, so that no worker has to.")
_settings = load_settings()
warm_page_stages(_settings.limits, _settings.dedup)
