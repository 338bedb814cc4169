"""Imported by the workers' fork server when entities are on: loads the NER model and the name tables once for every worker."""
from newsflow.extractors.entities import article_mentions
from newsflow.extractors.memory import freeze_for_workers
from newsflow.extractors.settings import load_settings

article_mentions(load_settings().ner, [("warm", "President Xi Jinping of China met Olaf Scholz in Berlin on Tuesday.")])
freeze_for_workers()
