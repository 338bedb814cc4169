"""Imported by the workers' fork server when entities are on: loads the NER model once for every worker."""
from extractors.entities import load_ner
from extractors.settings import load_settings

load_ner(load_settings().ner)
