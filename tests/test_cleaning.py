"""Boilerplate cleaning: the samples' gold, each language's lexicon, kept article structure, learned site chrome."""
from __future__ import annotations

import pytest

from newsflow.extractors.cleaning import clean_batch, clean_drafts, line_hash, observed_lines
from newsflow.extractors.lines import count_words, words
from newsflow.extractors.records import Draft
from newsflow.extractors.settings import Limits
from newsflow.storage.site_lines import load_site_lines, record_site_lines
from tests.gold import load_gold, sample_lines

SAMPLES = ["000_b865db9ad46887ed.txt", "001_9e2f585d2e5eedc9.txt", "002_5171715639db08b2.txt"]

# The reason expected for particular sample lines (line number -> reason).
EXPECTED_REASONS = {
    "000_b865db9ad46887ed.txt": {0: "clean_title", 16: "clean_call_to_action"},
    "001_9e2f585d2e5eedc9.txt": {0: "clean_title", 7: "clean_attribution"},
    "002_5171715639db08b2.txt": {
        0: "clean_menu",
        2: "clean_ui_phrase",
        3: "clean_ticker_headline",
        7: "clean_title",
        9: "clean_icon",
        12: "clean_repeated_title",
        88: "clean_comment_box",
        90: "clean_comment_box",
        92: "clean_comment_box",
        94: "clean_related",
        96: "clean_after_end_marker",
        98: "clean_timestamp",
        116: "clean_related",
    },
}

BODY = (
    "The regional council approved the new budget on Tuesday after a long debate about road repairs, "
    "school funding and the cost of public transport in the coming year."
)
BODY2 = (
    "Opposition members said the plan relied on optimistic revenue forecasts, while the mayor argued "
    "that delaying the vote would have frozen spending on several urgent projects."
)


def clean_one(text: str, site: str | None = None, site_lines: dict | None = None, **draft):
    """Clean one plain-text draft; returns (article or None, rejections, {line_no: reason})."""
    articles, rejections = clean_drafts([Draft("d1", text, site=site, **draft)], site_lines or {}, Limits())
    article = articles[0] if articles else None
    return article, rejections, {r.line_no: r.reason for r in (article.removed if article else [])}


@pytest.fixture(scope="module")
def gold(shared_dir):
    return load_gold(shared_dir)


@pytest.mark.parametrize("name", SAMPLES)
def test_samples_match_gold(shared_dir, gold, name):
    lines = sample_lines(shared_dir, name)
    expected = gold[name]
    article, rejections, reasons = clean_one("\n".join(lines), site="samples")
    assert not rejections
    assert article.title == expected["title"]
    assert article.attribution == expected["attribution"]
    for no in expected["boilerplate"] + expected["title_lines"]:
        assert no in reasons, f"line {no} should be removed: {lines[no]!r}"
    for no, reason in EXPECTED_REASONS[name].items():
        assert reasons[no] == reason, f"line {no}: {lines[no]!r}"
    for no, line in enumerate(lines):
        if line.strip() and no not in expected["boilerplate"] + expected["title_lines"] + expected["either"]:
            assert no not in reasons, f"line {no} is article text but was removed as {reasons.get(no)}: {line!r}"
            assert " ".join(line.split()) in article.text
    for absent in expected["absent"]:
        assert absent not in article.text
    assert article.language == "en"
    assert article.word_count == count_words(article.text) == len(article.text.split())
    assert "\n\n" in article.text and "\n\n\n" not in article.text


def test_removed_lines_keep_text_and_numbers(shared_dir):
    lines = sample_lines(shared_dir, "002_5171715639db08b2.txt")
    article, _, _ = clean_one("\n".join(lines))
    for removed in article.removed:
        assert removed.line == lines[removed.line_no].strip()
        assert removed.reason.startswith("clean_") and removed.reason == removed.reason.lower()


# Each language: UI lines written for this test (not copied from the samples) and the reason expected.
LEXICON_CASES = {
    "en": [("Skip to main content", "clean_menu"), ("Share this article", "clean_ui_phrase"),
           ("You might also like:", "clean_related"), ("Subscribe to our newsletter for daily updates", "clean_call_to_action"),
           ("Leave a comment", "clean_comment_box")],
    "id": [("Beranda", "clean_menu"), ("Bagikan", "clean_ui_phrase"), ("Baca Juga:", "clean_related"),
           ("Klik di sini untuk berlangganan", "clean_call_to_action"), ("Tulis Komentar", "clean_comment_box")],
    "ms": [("Laman Utama", "clean_menu"), ("Kongsi", "clean_ui_phrase"), ("Artikel Berkaitan", "clean_related"),
           ("Langgan surat berita kami", "clean_call_to_action"), ("Tinggalkan komen", "clean_comment_box")],
    "de": [("Startseite", "clean_menu"), ("Artikel teilen", "clean_ui_phrase"), ("Mehr zum Thema", "clean_related"),
           ("Abonnieren Sie unseren Newsletter", "clean_call_to_action"), ("Schreibe einen Kommentar", "clean_comment_box")],
    "fr": [("Accueil", "clean_menu"), ("Mode sombre", "clean_ui_phrase"), ("À lire aussi", "clean_related"),
           ("Inscrivez-vous à notre newsletter", "clean_call_to_action"), ("Laisser un commentaire", "clean_comment_box")],
    "es": [("Portada", "clean_menu"), ("Compartir en WhatsApp", "clean_ui_phrase"), ("Te puede interesar", "clean_related"),
           ("Suscríbete a nuestro boletín", "clean_call_to_action"), ("Deja un comentario", "clean_comment_box")],
    "pt": [("Página inicial", "clean_menu"), ("Compartilhar", "clean_ui_phrase"), ("Leia também:", "clean_related"),
           ("Assine nossa newsletter", "clean_call_to_action"), ("Deixe um comentário", "clean_comment_box")],
    "it": [("Vai al contenuto", "clean_menu"), ("Condividi", "clean_ui_phrase"), ("Leggi anche", "clean_related"),
           ("Iscriviti alla nostra newsletter", "clean_call_to_action"), ("Lascia un commento", "clean_comment_box")],
    "nl": [("Naar de inhoud", "clean_menu"), ("Deel dit artikel", "clean_ui_phrase"), ("Lees ook:", "clean_related"),
           ("Schrijf je in voor onze nieuwsbrief", "clean_call_to_action"), ("Laat een reactie achter", "clean_comment_box")],
}


@pytest.mark.parametrize("lang", sorted(LEXICON_CASES))
def test_lexicon_phrases_per_language(lang):
    cases = LEXICON_CASES[lang]
    # Menu and UI lines above the headline, the rest inside or after the body.
    text = "\n".join(
        [cases[0][0], cases[1][0], "Council Approves Budget After Long Debate", BODY, cases[2][0], BODY2, cases[3][0], cases[4][0], "Great article, thanks!"]
    )
    article, rejections, reasons = clean_one(text)
    assert not rejections
    lines = text.split("\n")
    for phrase, reason in cases:
        assert reasons[lines.index(phrase)] == reason, phrase
    assert article.title == "Council Approves Budget After Long Debate"
    assert article.text == f"{BODY}\n\n{BODY2}"
    assert reasons[8] == "clean_after_end_marker"  # the comment thread after the comment box


def test_article_structure_is_kept():
    text = "\n".join(
        [
            "Talks Resume Between Moscow and Beijing",
            "MOSCOW/BEIJING, Jan 21 (Reuters) – Russian and Chinese officials resumed trade talks on Tuesday, "
            "both governments said.",
            "I. Background",
            BODY,
            "Key points of the agreement:",
            "- Lower tariffs on farm goods",
            "- A joint energy fund",
            "1. Signing a new trade protocol",
            "2. Conclusion",
            "“We are ready,” the minister said.",
            "Conclusion",
            BODY2,
            "Related to this, officials expect another round of negotiations next month in Shanghai.",
        ]
    )
    article, _, reasons = clean_one(text)
    assert reasons == {0: "clean_title"}
    for line in text.split("\n")[1:]:
        assert line in article.text


def test_timestamps_icons_and_bylines_in_the_header():
    text = "\n".join(
        ["Mon, Nov 18, 2019 11:02 AM EST", "Budget Vote Ends Months of Deadlock", "By Jane Doe", "fa-facebook",
         "Updated 3 hours ago", BODY, BODY2, "Exit mobile version"]
    )
    article, _, reasons = clean_one(text)
    assert reasons == {
        0: "clean_timestamp", 1: "clean_title", 2: "clean_byline", 3: "clean_icon", 4: "clean_timestamp",
        7: "clean_after_end_marker",
    }
    assert article.title == "Budget Vote Ends Months of Deadlock"


def test_related_marker_drops_only_the_headline_run():
    text = "\n".join(
        [BODY, "Read also:", "Mayor Defends Transport Spending", "Tuesday, 12 March 2024", BODY2, BODY + " Again."]
    )
    article, _, reasons = clean_one(text, title="Budget", title_given=True)
    assert reasons == {1: "clean_related", 2: "clean_related", 3: "clean_timestamp"}
    assert BODY2 in article.text


def test_attribution_becomes_metadata():
    for line, value in [
        ("Courtesy: SAMAA TV", "SAMAA TV"),
        ("This article first appeared on https://www.example.org/news/1.", "example.org"),
        ("Source: Reuters", "Reuters"),
    ]:
        article, _, reasons = clean_one("\n".join([BODY, BODY2, line]), title="T", title_given=True)
        assert article.attribution == value
        assert reasons == {2: "clean_attribution"}
        assert line not in article.text


def test_sources_in_a_sentence_stay():
    text = "\n".join([BODY, "Source: the finance department, which published the figures on Monday morning, said so.", BODY2])
    article, _, _ = clean_one(text, title="T", title_given=True)
    assert article.attribution is None


def test_given_title_repeated_in_text_is_dropped():
    text = "\n".join(["Budget approved | City News", "Budget approved", BODY, BODY2])
    article, _, reasons = clean_one(text, title="Budget approved", title_given=True)
    assert reasons == {0: "clean_repeated_title", 1: "clean_repeated_title"}
    assert article.title == "Budget approved"


def test_duplicate_paragraph_is_kept_once():
    long = f"{BODY} {BODY2}"
    article, _, reasons = clean_one("\n".join([long, BODY2, long, "- one cup of rice", "- one cup of rice"]), title="T", title_given=True)
    assert reasons == {2: "clean_duplicate_line"}  # short lines may repeat (recipes, interviews)
    assert article.text.count(long) == 1


def test_too_short_body_is_rejected():
    articles, rejections = clean_drafts([Draft("d1", "Menu\nShort headline here\nOne line.")], {}, Limits())
    assert articles == []
    assert [r.reason for r in rejections] == ["clean_too_short"]
    _, rejections = clean_drafts([Draft("d2", "Menu\nShare")], {}, Limits())
    assert [r.reason for r in rejections] == ["clean_empty"]


def site_doc(n: int) -> str:
    """A document of the imaginary site: its own chrome lines around a distinct article."""
    return "\n".join(
        [
            "Kabar Nusantara Online",
            "Jelajahi Dunia Bersama Kami",
            f"Headline Number {n} About The Regional Budget Vote",
            f"{BODY} Item {n}.",
            f"{BODY2} Item {n}.",
            "Kabar Nusantara Online adalah bagian dari grup media independen",
        ]
    )


def test_site_chrome_learned_from_three_documents(db):
    drafts = [Draft(f"d{n}", site_doc(n), site="kabar.example") for n in range(3)]
    record_site_lines(db, observed_lines(drafts))
    learned = load_site_lines(db, ["kabar.example", "other.example"])
    assert learned["kabar.example"] >= {line_hash("Kabar Nusantara Online"), line_hash("Jelajahi Dunia Bersama Kami")}
    assert "other.example" not in learned

    article, _, reasons = clean_one(site_doc(4), site="kabar.example", site_lines=learned)
    assert reasons[0] == reasons[1] == reasons[5] == "clean_site_chrome"
    assert article.title == "Headline Number 4 About The Regional Budget Vote"
    # The same lines on another site are not that site's chrome.
    _, _, other = clean_one(site_doc(4), site="other.example", site_lines=learned)
    assert other.get(5) is None


def test_site_chrome_needs_three_documents(db):
    drafts = [Draft(f"d{n}", site_doc(n), site="kabar.example") for n in range(2)]
    record_site_lines(db, observed_lines(drafts))
    assert load_site_lines(db, ["kabar.example"]) == {}
    # Exact copies of one document count once.
    copies = [Draft(f"c{n}", site_doc(9), site="kabar.example") for n in range(3)]
    assert len(observed_lines(copies)) == len(observed_lines(copies[:1]))


def test_site_chrome_learned_within_one_batch():
    drafts = [Draft(f"d{n}", site_doc(n), site="kabar.example") for n in range(4)]
    articles, _ = clean_drafts(drafts, {}, Limits())
    for article in articles:
        assert "Kabar Nusantara Online" not in article.text
        assert {r.reason for r in article.removed if r.line_no in (0, 1, 5)} == {"clean_site_chrome"}


def test_words_in_scripts_without_spaces():
    text = "先日、不正に改造したiPhoneを販売したとして、商標法違反の疑いで20代の男性が逮捕されたというニュースを耳にしました。"
    assert 20 <= len(words(text)) <= 40 and 20 <= count_words(text) <= 40  # not one "word" per sentence
    article, rejections, _ = clean_one("\n".join([text, text.replace("先日", "昨日")]), title="商標", title_given=True)
    assert not rejections and article.word_count >= 40


# A page in a UI language no lexicon covers (Polish): only structure can tell chrome from article.
UNSEEN_LANGUAGE = """Menu

Tryb ciemny
Inflacja spada drugi miesiąc z rzędu, ekonomiści ostrożni

gospodarka

Rada miasta przyjęła nowy budżet po długiej debacie

bookmark-outline


		Rada miasta przyjęła nowy budżet po długiej debacie Powiększ

Rada miasta przyjęła we wtorek nowy budżet na przyszły rok po wielogodzinnej debacie na temat remontów dróg, finansowania szkół i kosztów komunikacji miejskiej.

Radni opozycji twierdzili, że plan opiera się na zbyt optymistycznych prognozach dochodów, natomiast burmistrz przekonywał, że odłożenie głosowania zamroziłoby wydatki na kilka pilnych projektów.

Najważniejsze zmiany

Budżet przewiduje między innymi wyższe nakłady na remonty szkół oraz nowe linie autobusowe na obrzeżach miasta, które mają ruszyć jeszcze przed końcem roku.

Komentarze

Dodaj komentarz

Twój adres e-mail nie zostanie opublikowany. Wymagane pola są oznaczone *

Czytaj także

Nowy most na Wiśle otwarty dla ruchu po trzech latach budowy

04.07.2025 22:13

Protest rolników zablokował drogę krajową numer siedem

04.07.2025 21:40

Ceny mieszkań w dużych miastach znów rosną

04.07.2025 20:02

Najczęściej czytane w Polsce"""


def test_unseen_ui_language_by_structure():
    lines = UNSEEN_LANGUAGE.split("\n")
    article, rejections, reasons = clean_one(UNSEEN_LANGUAGE)
    assert not rejections
    assert article.title == "Rada miasta przyjęła nowy budżet po długiej debacie"
    body = {14, 16, 18, 20}  # three paragraphs and a section heading
    for no, line in enumerate(lines):
        if line.strip():
            assert (no in reasons) == (no not in body), f"line {no}: {line!r} -> {reasons.get(no)}"
    assert reasons[3] == "clean_ticker_headline"
    assert reasons[12] == "clean_repeated_title"  # with an unknown caption word
    assert reasons[26] == "clean_comment_box"
    assert reasons[32] == "clean_timestamp"
    assert article.language == "pl"


BLOG_PAGE = """Skip to content
Home
About
Contact
Tux Notes
Why I Switched to Linux After Twenty Years of Windows
Posted on March 3, 2024 by admin
After twenty years of using Windows at home and at work, I finally moved my laptop to Linux last winter, and the switch was far less painful than I expected.
The installer recognised every piece of hardware, including the fingerprint reader, and the only program I really missed was a tax tool that now runs in the browser anyway.
What surprised me most
Updates no longer interrupt my work, and the laptop boots in about ten seconds, which is half of what it used to take with the old system.
Share this:
Twitter
Facebook
Like this:
Like Loading...
Related
Another Post About Desktop Environments
March 1, 2024
In "Linux"
Leave a Reply Cancel reply"""

INDONESIAN_PAGE = """detikNews
Berita
Daerah
Jawa Barat
Harga Cabai Rawit di Bandung Naik Dua Kali Lipat Jelang Lebaran
Siti Rahma - detikJabar
Senin, 24 Mar 2025 10:15 WIB
Bandung - Harga cabai rawit di sejumlah pasar tradisional di Kota Bandung naik hingga dua kali lipat menjelang Lebaran, menurut pedagang yang ditemui pada Senin pagi.
Seorang pedagang di Pasar Kosambi mengatakan harga cabai rawit kini mencapai Rp 90 ribu per kilogram, padahal sepekan lalu masih Rp 45 ribu.
Baca juga: Operasi Pasar Digelar di 30 Kecamatan
Pemerintah kota berjanji menggelar operasi pasar untuk menekan harga, terutama di kecamatan dengan daya beli rendah.
(yum/yum)
cabai rawit
harga pangan
lebaran 2025
Bandung
Halaman Selanjutnya
Simak Video "Harga Bawang Merah Ikut Naik\""""

GERMAN_PAGE = """Zum Inhalt springen
Startseite › Politik › Inland
Dunkelmodus
Bahnstreik legt Fernverkehr am Montag lahm
Stadtrat beschließt Haushalt nach langer Debatte
Von Anna Schmidt
12.03.2024, 14:35 Uhr
Der Stadtrat hat am Dienstag nach einer langen Debatte über Straßenreparaturen, Schulen und Nahverkehr den neuen Haushalt für das kommende Jahr beschlossen.
Die Opposition kritisierte, der Plan beruhe auf zu optimistischen Einnahmeprognosen; der Bürgermeister hielt dagegen, eine Verschiebung hätte dringende Projekte blockiert.
Anzeige
Auch die Sanierung von drei Grundschulen ist nun gesichert, wie die Stadtverwaltung am Abend mitteilte. Die Arbeiten sollen noch im Sommer beginnen.
Mehr zum Thema
Neue Buslinie für den Norden der Stadt
Kita-Gebühren steigen ab August
Kommentare
Schreiben Sie einen Kommentar"""


@pytest.mark.parametrize(
    "text, title, body, expected",
    [
        (BLOG_PAGE, "Why I Switched to Linux After Twenty Years of Windows", {7, 8, 9, 10},
         {0: "clean_menu", 4: "clean_category", 6: "clean_metadata_line", 11: "clean_after_end_marker",
          16: "clean_related", 18: "clean_timestamp", 20: "clean_comment_box"}),
        (GERMAN_PAGE, "Stadtrat beschließt Haushalt nach langer Debatte", {7, 8, 10},
         {2: "clean_ui_phrase", 3: "clean_ticker_headline", 5: "clean_byline", 6: "clean_timestamp",
          9: "clean_ui_phrase", 11: "clean_related", 12: "clean_related", 14: "clean_comment_box"}),
        (INDONESIAN_PAGE, "Harga Cabai Rawit di Bandung Naik Dua Kali Lipat Jelang Lebaran", {7, 8, 10},
         {0: "clean_category", 5: "clean_byline", 6: "clean_timestamp", 9: "clean_related",
          12: "clean_after_end_marker", 16: "clean_menu", 17: "clean_call_to_action"}),
    ],
    ids=["english-blog", "german-news", "indonesian-news"],
)
def test_page_chrome_around_the_article(text, title, body, expected):
    article, rejections, reasons = clean_one(text)
    assert not rejections and article.title == title
    for no, line in enumerate(text.split("\n")):
        assert (no in reasons) == (no not in body), f"line {no}: {line!r} -> {reasons.get(no)}"
    for no, reason in expected.items():
        assert reasons[no] == reason


def test_chrome_learned_before_is_applied_in_the_first_pass_and_keeps_counting():
    drafts = [Draft(f"d{n}", site_doc(n), site="kabar.example") for n in range(4)]
    learned_here, _, observed_here, _ = clean_batch(drafts, {}, Limits())
    chrome = {line_hash("Kabar Nusantara Online"), line_hash("Jelajahi Dunia Bersama Kami")}
    known = {"kabar.example": chrome}
    articles, _, observed, _ = clean_batch(drafts, known, Limits())
    # Known or learned in this batch, the chrome goes the same way...
    assert articles == learned_here
    assert all({r.reason for r in a.removed if r.line_no in (0, 1)} == {"clean_site_chrome"} for a in articles)
    # ...and every page still counts it, so the site's doc_count grows.
    assert sorted(observed) == sorted(observed_here)
    assert sum(1 for _site, h, _line in observed if h in chrome) == 2 * len(drafts)


def test_pages_of_a_frequent_site_without_shared_chrome_get_their_facts(shared_dir):
    from newsflow.extractors.dedup import compute_keys
    from newsflow.extractors.settings import Dedup

    # Three different articles of one site: the site could learn chrome in the batch, but shares no line.
    drafts = [Draft(f"s{n}", "\n".join(sample_lines(shared_dir, name)), site="one.example") for n, name in enumerate(SAMPLES)]
    articles, _, observed, body_keys = clean_batch(drafts, {}, Limits(), Dedup())
    assert len(articles) == 3 and not [h for _s, h, _l in observed if sum(h == o[1] for o in observed) >= 3]
    assert all(a.language and a.word_count == count_words(a.text) for a in articles)
    assert compute_keys(articles, Dedup(), known=body_keys) == compute_keys(articles, Dedup())


def test_clean_batch_returns_what_clean_drafts_and_observed_lines_return():
    drafts = [Draft(f"d{n}", site_doc(n), site="kabar.example") for n in range(4)] + [Draft("x", site_doc(7))]
    articles, rejections, observed, keys = clean_batch(drafts, {}, Limits())
    assert (articles, rejections) == clean_drafts(drafts, {}, Limits())
    assert sorted(observed) == sorted(observed_lines(drafts))
    assert {site for site, _h, _line in observed} == {"kabar.example"} and keys == {}


def test_body_keys_come_back_as_a_value_and_match_keys_computed_afterwards():
    from newsflow.extractors.dedup import compute_keys
    from newsflow.extractors.settings import Dedup

    # Four pages of one site (their shared chrome is learned in the batch and removed in a second pass)
    # and one page of another site.
    drafts = [Draft(f"d{n}", site_doc(n), site="kabar.example") for n in range(4)] + [Draft("x", site_doc(7))]
    articles, _, _, body_keys = clean_batch(drafts, {}, Limits(), Dedup())
    plain, _, _, _ = clean_batch(drafts, {}, Limits())
    assert articles == plain
    with_known = compute_keys(articles, Dedup(), known=body_keys)
    assert with_known == compute_keys(plain, Dedup())
    assert set(body_keys) == {"d0", "d1", "d2", "d3", "x"}
    # The site's pages lost their learned chrome in the second pass; their keys are those of the final text.
    assert all(a.removed for a in articles if a.site) and compute_keys(plain[:1], Dedup())[0].text_sha256 == \
        body_keys["d0"].text_sha256


def page_article(shared_dir, page: str):
    """A real page of the benchmark corpora through the extractor and the cleaner: (its lines, article, {line_no: reason})."""
    import hashlib
    from datetime import datetime, timezone

    from newsflow.extractors.html import extract_html
    from newsflow.extractors.records import RawDocument

    raw = (shared_dir / "benchdata" / page).read_bytes()
    doc = RawDocument("p1", "url", page, raw, "html", datetime.now(timezone.utc), hashlib.sha256(raw).hexdigest())
    draft = extract_html(doc, raw.decode("utf-8", "replace"), Limits())
    (article,), rejections = clean_drafts([draft], {}, Limits())
    assert rejections == []
    return draft.text.split("\n"), article, {r.line_no: r.reason for r in article.removed}


def test_a_comment_box_cuts_the_thread_even_when_it_outweighs_the_post(shared_dir):
    """A forum question (mactechnews.de, trafilatura's eval: the question is the text) and its longer thread."""
    lines, article, reasons = page_article(shared_dir, "trafilatura_eval/pages/d43f330cbaf74e92b9aec85e937cb904.html")
    assert lines[7] == "Kommentare" and reasons[7] == "clean_comment_box"
    thread = [no for no in range(8, len(lines)) if lines[no].strip()]
    assert len(thread) > 150 and sum(len(lines[no].split()) for no in thread) > 3 * len(article.text.split())
    assert {reasons.get(no) for no in thread} == {"clean_after_end_marker"}
    assert [no for no in range(2, 6) if no in reasons] == []  # the question stays
    assert "wissentlich hab ich keine einstellungen geändert" in article.text


@pytest.mark.parametrize("page, line", [
    # "This effort began in earnest in / June 2015 / with global source code rewrites": a link's text
    ("trafilatura_eval/pages/gregoryszorc.com.python3.html", "June 2015"),
    # a recipe's preparation time under "Zubereitung"
    ("trafilatura_eval/pages/lecker.de.schneewittchen.html", "120 Minuten"),
    # a heading between two paragraphs of a photo site's welcome page
    ("trafilatura_eval/pages/pix-bavaria.de.html", "Terms of use"),
    # the theatre's address under "Ticketing", in the page's gold text
    ("extraction_aeb/html/8cad00dc22de45ba42e9540421b5f78333f7ac57b385d69acb27a53b9fd69f0c.html", "www.jeongdongtheater.com"),
])
def test_a_lone_time_menu_word_or_link_inside_the_body_is_kept(shared_dir, page, line):
    lines, article, reasons = page_article(shared_dir, page)
    (no,) = [no for no, text in enumerate(lines) if " ".join(text.split()) == line]
    assert no not in reasons
    assert line in article.text.split("\n")


def test_times_beside_other_chrome_inside_the_body_go(shared_dir):
    """zdf.de: a video tile's duration and date lines under the first paragraph are chrome, not the article's times."""
    lines, article, reasons = page_article(shared_dir, "trafilatura_eval/pages/zdf.de.corona.html")
    assert lines[1:5] == ["2 min", "2 min", "04.04.2020", "04.04.2020"]
    assert [reasons.get(no) for no in range(1, 5)] == ["clean_timestamp"] * 4
    assert "04.04.2020" not in article.text


def test_an_email_line_below_the_body_takes_its_contact_block_along(shared_dir):
    """parcoabruzzo.it: the park's address, phone and e-mail under a press release (trafilatura's eval: not text)."""
    lines, article, reasons = page_article(shared_dir, "trafilatura_eval/pages/parcoabruzzo.it.58354.html")
    assert lines[13] == "Tel. 0863/91131 - Fax 0863/912132"
    assert {no: reasons.get(no) for no in (12, 13, 14)} == {
        12: "clean_after_end_marker", 13: "clean_after_end_marker", 14: "clean_comment_box"}
    assert "Il risultato è molto positivo" in article.text


def test_an_end_marker_below_the_body_cuts_what_follows(shared_dir):
    """strive-magazin.de: "Über die Autorin:" under the last paragraph; the author's bio below it goes too."""
    lines, article, reasons = page_article(shared_dir, "trafilatura_eval/pages/strive-magazin.de.dating.html")
    assert lines[19] == "Über die Autorin:" and lines[18] == "Mal sehen, wie es ausgeht."
    assert {no: reasons.get(no) for no in (18, 19, 20, 21)} == {
        18: None, 19: "clean_after_end_marker", 20: "clean_after_end_marker", 21: "clean_after_end_marker"}
    assert article.text.endswith("Mal sehen, wie es ausgeht.")


RMOL = """Berita
Presiden China Xi Jinping dan Presiden Rusia Vladimir Putin/Net
Dunia
Xi Jinping Tiba di Moskow, Putin Sambut Sahabat Lamanya
SELASA, 21 MARET 2023 | 06:55 WIB | LAPORAN: RENI ERINA
Presiden Tiongkok Xi Jinping tiba di Moskow pada Senin (20/3) untuk kunjungan kenegaraan selama tiga hari, kunjungan pertamanya ke Rusia sejak perang di Ukraina dimulai.
Xi disambut di bandara oleh Wakil Perdana Menteri Dmitry Chernyshenko, seperti dilaporkan kantor berita TASS. Dalam artikel yang dimuat surat kabar Rusia, Xi menyebut kunjungannya sebagai perjalanan persahabatan.
Presiden Rusia Vladimir Putin menyebut Xi sebagai sahabat baiknya dan mengatakan hubungan Rusia dan Tiongkok berada pada tingkat tertinggi dalam sejarah.
Bagikan:
Populer
Harga Beras Naik Jelang Ramadan
SENIN, 20 MARET 2023 | 14:10 WIB
Jokowi Tinjau Banjir di Semarang
SENIN, 20 MARET 2023 | 11:02 WIB
"""

NOEN = """Politik
Wladimir Putin und Xi Jinping in Moskau (Foto: APA/AFP)
Xi Jinping zu Staatsbesuch in Moskau eingetroffen
Von Redaktion NÖN | 20. März 2023, 18:32 Uhr
Der chinesische Staatschef Xi Jinping ist zu einem dreitägigen Staatsbesuch in Russland eingetroffen. Kremlchef Wladimir Putin empfing seinen Gast am Montagnachmittag im Kreml in Moskau, wie die Agentur TASS berichtete.
Es ist Xis erste Reise nach Russland seit Beginn des Angriffskriegs gegen die Ukraine. Putins Sprecher Dmitri Peskow sagte, beide Präsidenten würden über den chinesischen Friedensplan sprechen.
"""


def removed_by_line(article) -> dict[str, str]:
    return {r.line: r.reason for r in article.removed}


def test_indonesian_caption_section_label_and_dateline_leave_the_text():
    article, rejections, _ = clean_one(RMOL)
    assert not rejections
    reasons = removed_by_line(article)
    assert article.title == "Xi Jinping Tiba di Moskow, Putin Sambut Sahabat Lamanya"
    assert reasons["Presiden China Xi Jinping dan Presiden Rusia Vladimir Putin/Net"] == "clean_photo_caption"
    assert reasons["Berita"] == reasons["Dunia"] == "clean_menu"
    assert reasons["SELASA, 21 MARET 2023 | 06:55 WIB | LAPORAN: RENI ERINA"] == "clean_metadata_line"
    # 06:55 WIB is UTC+7.
    assert article.published_at.isoformat() == "2023-03-20T23:55:00+00:00" and article.author == "Reni Erina"
    assert article.text.startswith("Presiden Tiongkok Xi Jinping tiba") and "Populer" not in article.text


def test_german_caption_with_a_photo_credit_is_never_the_title():
    article, _, _ = clean_one(NOEN)
    reasons = removed_by_line(article)
    assert article.title == "Xi Jinping zu Staatsbesuch in Moskau eingetroffen"
    assert reasons["Wladimir Putin und Xi Jinping in Moskau (Foto: APA/AFP)"] == "clean_photo_caption"
    assert reasons["Politik"] == "clean_menu"
    assert (article.author, article.published_at.isoformat()) == ("Redaktion NÖN", "2023-03-20T18:32:00+00:00")
    assert article.text.startswith("Der chinesische Staatschef")


def test_a_given_date_and_author_win_over_the_dateline():
    from datetime import datetime, timezone

    given = datetime(2023, 3, 21, tzinfo=timezone.utc)
    article, _, _ = clean_one(RMOL, author="Redaksi", published_at=given)
    assert (article.author, article.published_at) == ("Redaksi", given)


def test_an_end_marker_followed_by_much_article_text_drops_only_its_own_line():
    sentence = "The protocol sends each message twice so that a receiver can detect a lost packet and ask again."
    before = [f"{sentence} Part {i} of the introduction." for i in range(40)]
    after = [f"{sentence} Section {i} of the specification goes on." for i in range(30)]
    text = "\n\n".join(["Reliable delivery over lossy links", *before, "Topics", *after])
    article, rejections, reasons = clean_one(text)
    assert not rejections
    marker = text.split("\n").index("Topics")
    assert reasons.get(marker) == "clean_after_end_marker"
    assert [no for no, reason in reasons.items() if reason == "clean_after_end_marker"] == [marker]
    assert "Section 29 of the specification goes on." in article.text


def test_an_end_marker_followed_by_little_text_still_cuts_it():
    sentence = "The council voted on the harbour budget after a long debate about the costs of the new quay wall."
    body = [f"{sentence} Point {i}." for i in range(8)]
    text = "\n\n".join(["Council passes harbour budget", *body, "Tags", "harbour", "budget", "council"])
    _, _, reasons = clean_one(text)
    lines = text.split("\n")
    assert {reasons.get(lines.index(w)) for w in ("harbour", "budget", "council")} == {"clean_after_end_marker"}


def test_a_sentence_above_the_headline_is_not_a_ticker_headline():
    sentence = "The council voted on the harbour budget after a long debate about the costs of the new quay wall."
    text = "\n\n".join([
        "Ferry strike ends after two days",  # a ticker: headline-sized, no sentence
        "Obsoletes RFC 760 and updates the earlier draft.",
        "Council passes harbour budget",
        *[f"{sentence} Point {i}." for i in range(6)],
    ])
    _, _, reasons = clean_one(text, title="Council passes harbour budget", title_given=True)
    lines = text.split("\n")
    assert reasons.get(lines.index("Ferry strike ends after two days")) == "clean_ticker_headline"
    assert lines.index("Obsoletes RFC 760 and updates the earlier draft.") not in reasons


def test_a_dated_list_as_long_as_the_body_is_content_not_a_headline_list():
    intro = "We are two comedians from Vienna who started as a satirical blog and now write and perform our own shows."
    entries = []
    for year in range(2008, 2016):
        entries += [f"{year}", f"Premiere of our programme number {year - 2007} at the theatre in Vienna"]
    text = "\n\n".join(["Our stage career", intro, intro.replace("two", "both"), *entries])
    _, rejections, reasons = clean_one(text)
    assert not rejections
    lines = text.split("\n")
    programmes = [no for no, line in enumerate(lines) if line.startswith("Premiere of our programme")]
    assert not [no for no in programmes if no in reasons]
