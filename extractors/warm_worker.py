"""Imported by the workers' fork server: loads the lexicons and the language model once for every worker."""
from extractors.html import quiet_extractor_logs
from extractors.language import detect_language
from extractors.lines import load_lexicon

quiet_extractor_logs()
load_lexicon()
detect_language("The fork server loads the language model once, so that no worker has to.")
