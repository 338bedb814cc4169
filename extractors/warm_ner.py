"""Imported by the workers' fork server when entities are on: loads the NER model and the name tables once for every worker."""
from extractors.entities import article_mentions
from extractors.memory import freeze_for_workers
from extractors.settings import load_settings

article_mentions(load_settings().ner, [("warm", "President Xi Jinping of China met Olaf Scholz in Berlin on Tuesday.")])
freeze_for_workers()
