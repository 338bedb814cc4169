"""Language detection of article bodies (ISO 639-1, py3langid's bundled model)."""
from __future__ import annotations

import pytest

from extractors.language import detect_language

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
