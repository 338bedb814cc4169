"""Language detection of article bodies (ISO 639-1, py3langid's bundled model)."""
from __future__ import annotations

import pytest

from newsflow.extractors.language import detect_language, load_identifier, unpacked_model

SENTENCES = {
    "en": "The city council approved the new budget on Tuesday after a long debate about road repairs.",
    "id": "Pemerintah kota menyetujui anggaran baru pada hari Selasa setelah perdebatan panjang tentang perbaikan jalan.",
    "de": "Der Stadtrat hat am Dienstag nach einer langen Debatte über Straßenreparaturen den neuen Haushalt beschlossen.",
    "fr": "Le conseil municipal a approuvé mardi le nouveau budget après un long débat sur la réparation des routes.",
    "es": "El ayuntamiento aprobó el martes el nuevo presupuesto tras un largo debate sobre la reparación de carreteras.",
    "pt": "A câmara municipal aprovou na terça-feira o novo orçamento depois de um longo debate sobre a reparação das estradas.",
    "it": "Il consiglio comunale ha approvato martedì il nuovo bilancio dopo un lungo dibattito sulla riparazione delle strade.",
    "nl": "De gemeenteraad heeft dinsdag na een lang debat over wegreparaties de nieuwe begroting goedgekeurd.",
}


@pytest.mark.parametrize("lang", sorted(SENTENCES))
def test_detects_language(lang):
    assert detect_language(SENTENCES[lang]) == lang


def test_samples_are_english(shared_dir):
    for path in sorted((shared_dir / "samples" / "inbox").glob("*.txt")):
        assert detect_language(path.read_text(encoding="utf-8")) == "en"


def test_too_little_text_is_unknown():
    assert detect_language("") is None
    assert detect_language("OK 123") is None
    assert detect_language("1234 5678 9012 3456 7890 !!!") is None


def test_the_unpacked_model_answers_as_the_packed_one(tmp_path):
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    packed = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    unpacked = load_identifier(tmp_path)
    assert [p.suffix for p in tmp_path.iterdir()] == [".npz"]  # unpacked once, no partial file left
    for text in SENTENCES.values():
        assert unpacked.classify(text) == packed.classify(text)
    again = load_identifier(tmp_path)  # from the cached file
    assert again.classify(SENTENCES["id"]) == packed.classify(SENTENCES["id"])


def test_an_unusable_cache_falls_back_to_the_packed_model(tmp_path):
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    assert load_identifier(not_a_folder).classify(SENTENCES["de"])[0] == "de"
    damaged = unpacked_model(MODEL_DIR / MODEL_FILE, tmp_path / "cache")
    damaged.write_bytes(b"not a zip file")
    assert load_identifier(tmp_path / "cache").classify(SENTENCES["fr"])[0] == "fr"
    assert not damaged.exists()  # removed, so the next load unpacks it again


def test_installs_of_the_same_model_share_one_unpacked_file(tmp_path):
    import lzma
    import os
    import shutil

    from py3langid.langid import MODEL_DIR, MODEL_FILE

    first = unpacked_model(MODEL_DIR / MODEL_FILE, tmp_path / "cache")
    other_install = tmp_path / "other" / MODEL_FILE  # another virtualenv: same bytes, another path and mtime
    other_install.parent.mkdir(parents=True)
    shutil.copyfile(MODEL_DIR / MODEL_FILE, other_install)
    os.utime(other_install, ns=(1, 1))
    assert unpacked_model(other_install, tmp_path / "cache") == first
    assert len(list((tmp_path / "cache").iterdir())) == 1
    old_scheme = tmp_path / "cache" / "py3langid-0.4.0-4586720-1795679982312804729.npz"  # named by mtime
    old_scheme.write_bytes(b"x")
    another_model = tmp_path / "another.npz.xz"
    another_model.write_bytes(lzma.compress(b"another model"))
    assert unpacked_model(another_model, tmp_path / "cache").read_bytes() == b"another model"
    assert len(list((tmp_path / "cache").iterdir())) == 2  # both models kept, the old-scheme file removed
    assert not old_scheme.exists()


def test_no_home_for_the_cache_still_detects(monkeypatch):
    from newsflow.extractors import language
    from newsflow.extractors.settings import Paths

    def no_home(self):
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Paths, "cache", no_home)
    language._identifier.cache_clear()
    try:
        assert detect_language(SENTENCES["nl"]) == "nl"
    finally:
        language._identifier.cache_clear()  # the next test loads the cached model again
