"""Language of an article body as an ISO 639-1 code, with py3langid (which ships its model)."""
from __future__ import annotations

from functools import lru_cache

MIN_LETTERS = 20  # fewer letters than this give no reliable guess
MIN_CONFIDENCE = 0.5  # normalised probability below which the answer is "unknown"
SAMPLE_CHARS = 2000  # the head of a long text is enough and keeps detection fast


@lru_cache(maxsize=1)
def _identifier():
    """The py3langid model with probabilities normalised to 0..1 (loaded once per process)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when the text is too short or the guess too weak."""
    sample = (text or "")[:SAMPLE_CHARS]
    if sum(map(str.isalpha, sample)) < MIN_LETTERS:
        return None
    code, confidence = _identifier().classify(sample)
    return code if confidence >= MIN_CONFIDENCE else None
