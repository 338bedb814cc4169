"""Language of an article body as an ISO 639-1 code, with py3langid (which ships its model)."""
from __future__ import annotations

import logging
import os
import tempfile
from functools import lru_cache
from pathlib import Path

MIN_LETTERS = 20  # fewer letters than this give no reliable guess
MIN_CONFIDENCE = 0.5  # normalised probability below which the answer is "unknown"
SAMPLE_CHARS = 2000  # the head of a long text is enough and keeps detection fast

log = logging.getLogger(__name__)


def unpacked_model(model_file: Path, cache_dir: Path) -> Path:
    """The model's npz, unpacked once into cache_dir: LZMA decompression is two thirds of each load (0.5 s)."""
    import hashlib
    import lzma
    import shutil

    # Named by content (4 ms to hash), not by path or mtime: every install of the same model shares one file.
    with open(model_file, "rb") as packed:
        digest = hashlib.file_digest(packed, "sha256").hexdigest()[:16]
    target = cache_dir / f"py3langid-{digest}.npz"
    if not target.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        # Unpacked beside the target and renamed: a concurrent reader never sees half a file.
        with tempfile.NamedTemporaryFile(dir=cache_dir, suffix=".part", delete=False) as out:
            try:
                with lzma.open(model_file) as src:
                    shutil.copyfileobj(src, out, length=1 << 20)
            except BaseException:
                os.unlink(out.name)
                raise
        os.replace(out.name, target)
        # Files named by the earlier scheme (py3langid-<version>-<size>-<mtime>.npz): one per install, never read now.
        for stale in cache_dir.glob("py3langid-*-*-*.npz"):
            stale.unlink(missing_ok=True)
    return target


def _packed_identifier():
    """py3langid's identifier from its packed model, probabilities normalised to 0..1 (py3langid's own load)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def load_identifier(cache_dir: Path):
    """py3langid's identifier with probabilities normalised to 0..1, from the unpacked model when it can be kept."""
    from zipfile import BadZipFile

    import numpy as np
    from py3langid import modelio
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    try:
        path = unpacked_model(MODEL_DIR / MODEL_FILE, cache_dir)
    except OSError as exc:  # a read-only home, a full disk
        log.info("language model not unpacked into %s (%s); loading the packed one", cache_dir, exc)
        return _packed_identifier()
    try:  # py3langid's own modelio.load_model, from the unpacked file
        with np.load(path, allow_pickle=False) as data:
            ptc, pc, classes = data["ptc"], data["pc"], data["classes"].tolist()
            nextmove, row = modelio._to_array(data["nextmove"]), modelio._to_array(data["nextmove_row"])
            output = data["out_feat"].tolist()
    except (OSError, ValueError, KeyError, AttributeError, BadZipFile) as exc:  # damaged file, another layout
        log.warning("unpacked language model %s unusable (%s); removed, loading the packed one", path, exc)
        path.unlink(missing_ok=True)  # unpacked again next time
        return _packed_identifier()
    return LanguageIdentifier(np.asarray(ptc), np.asarray(pc), classes, nextmove, output, norm_probs=True, tk_row=row)


@lru_cache(maxsize=1)
def _identifier():
    """The identifier of this process (loaded once per process)."""
    from newsflow.extractors.settings import load_settings

    try:
        cache_dir = load_settings().paths.cache()
    except RuntimeError:  # no home directory to hold the cache: the packed model it is
        return _packed_identifier()
    return load_identifier(cache_dir)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when the text is too short or the guess too weak."""
    sample = (text or "")[:SAMPLE_CHARS]
    if sum(map(str.isalpha, sample)) < MIN_LETTERS:
        return None
    code, confidence = _identifier().classify(sample)
    return code if confidence >= MIN_CONFIDENCE else None
