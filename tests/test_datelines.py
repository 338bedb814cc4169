"""Photo captions and datelines in the lexicon languages."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from newsflow.extractors.datelines import is_photo_caption, parse_dateline
from newsflow.extractors.lines import load_lexicon


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize("line, published, author", [
    ("SELASA, 21 MARET 2023 | 06:55 WIB | LAPORAN: RENI ERINA", utc(2023, 3, 20, 23, 55), "Reni Erina"),
    ("Von Redaktion NÖN | 20. März 2023, 18:32 Uhr", utc(2023, 3, 20, 18, 32), "Redaktion NÖN"),
    ("Wien, 3. Jänner 2024", utc(2024, 1, 3), None),
    ("Par Jean Dupont, le 3 janvier 2024 à 10h15", utc(2024, 1, 3, 10, 15), "Jean Dupont"),
    ("Por María López | 4 de mayo de 2022 - 07:45", utc(2022, 5, 4, 7, 45), "María López"),
    ("Santiago, 14 de setiembre de 2021", utc(2021, 9, 14), None),
    ("Posted on March 3, 2024 by admin", utc(2024, 3, 3), None),
    ("Kamis, 02/05/2024 14:30 WITA", utc(2024, 5, 2, 6, 30), None),
    ("Penulis: Budi Santoso", None, "Budi Santoso"),
    ("Bagikan artikel ini", None, None),
])
def test_datelines_give_a_utc_time_and_an_author(line, published, author):
    assert parse_dateline(line) == (published, author)


@pytest.mark.parametrize("line, caption", [
    ("Presiden China Xi Jinping dan Presiden Rusia Vladimir Putin/Net", True),
    ("Ilustrasi gedung DPR/RMOL", True),
    ("Wladimir Putin und Xi Jinping in Moskau (Foto: APA/AFP)", True),
    ("Kamala Harris speaks in Atlanta (AP Photo/Evan Vucci)", True),
    ("Warga memadati pasar pagi ini. Foto: Istimewa", True),
    # Not captions: a slash between places or numbers, a party pair, a source line, a sentence with a colon.
    ("Wahlen in Bern/Zürich", False),
    ("Der Umsatz stieg auf 3/4 des Vorjahres", False),
    ("Die Regierung (SPÖ/ÖVP) einigte sich", False),
    ("Original Source: www.hindustantimes.com", False),
    ("Er sagte: Das ist gut", False),
])
def test_a_caption_ends_in_a_photo_credit(line, caption):
    assert is_photo_caption(line, load_lexicon()) is caption
