"""The throw-away page the fork server and the warm-up run through extraction and cleaning."""
from newsflow.extractors.settings import Dedup, Limits
from newsflow.extractors.warming import WARM_TEXT, warm_page_stages


def test_the_warm_page_goes_through_extraction_and_cleaning():
    articles = {a.document_id: a for a in warm_page_stages(Limits(), Dedup())}
    assert set(articles) == {"warm-text", "warm-html"}
    page = articles["warm-html"]
    assert (page.title, page.author, page.extractor) == ("Vaccine trial", "Ana Lima", "trafilatura")
    assert page.published_at is not None and page.published_at.year == 2026
    assert [r.reason for r in page.removed] == ["clean_repeated_title"]  # the cleaner ran on it
    assert all(a.text == WARM_TEXT and a.language == "en" for a in articles.values())
