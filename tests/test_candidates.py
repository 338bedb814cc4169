"""Choosing between candidate extractions by what the other candidates and the page itself confirm."""
from newsflow.extractors.candidates import Candidate, article_body, choose, doubts, missing_lead

ARTICLE = " ".join(f"Sentence {i} of the report explains the flood defences built along the river." for i in range(60))
TEASERS = "Read more: Flood season starts. Read more: River levels rise. Read more: Mayor visits dam."
COMMENTS = " ".join(f"Comment {i}: I live by the river and nobody asked us about this plan at all." for i in range(80))


def test_a_small_wrong_container_gives_way_to_the_confirmed_article():
    section = " ".join(ARTICLE.split()[:120])  # the recall run kept one section of the article
    main = Candidate("trafilatura", section)
    others = [Candidate("readability", ARTICLE), Candidate("trafilatura_default", ARTICLE)]
    chosen, why = choose(main, others, None, ARTICLE, 20)
    assert chosen.name == "readability"
    assert why == "readability: 780 confirmed words against 120"


def test_more_text_that_is_not_the_same_article_does_not_win():
    main = Candidate("trafilatura", ARTICLE)
    others = [Candidate("readability", COMMENTS), Candidate("trafilatura_default", ARTICLE)]
    chosen, why = choose(main, others, None, ARTICLE + " " + COMMENTS, 20)
    assert (chosen.name, why) == ("trafilatura", "main: confirmed")


def test_the_pages_article_body_vouches_for_a_candidate_that_holds_it():
    main = Candidate("trafilatura", TEASERS + " " + " ".join(ARTICLE.split()[:30]))
    others = [Candidate("readability", ARTICLE)]
    chosen, _ = choose(main, others, ARTICLE, "", 20)
    assert chosen.name == "readability"


def test_too_little_main_text_takes_the_largest_confirmed_candidate():
    main = Candidate("trafilatura", "Flood defences")
    chosen, why = choose(main, [Candidate("readability", ARTICLE), Candidate("trafilatura_default", "")], None, ARTICLE, 20)
    assert (chosen.name, why) == ("readability", "readability: main text under 20 words")


def test_doubts_name_their_reason():
    assert doubts("a b c", 0, None, 20, 0.6) == "too_few_words"
    assert doubts(ARTICLE, 2000, None, 20, 0.6) == "under_paragraph_words"
    assert doubts(TEASERS * 3, 10, ARTICLE, 20, 0.6) == "misses_article_body"
    assert doubts(ARTICLE, 900, ARTICLE, 20, 0.6) is None


def test_article_body_is_read_from_json_ld_and_a_teaser_is_not_evidence():
    html = ('<script type="application/ld+json">{"@graph": [{"@type": "NewsArticle", "articleBody": "'
            + ARTICLE.replace("river", "river &amp; lake") + '"}]}</script>')
    assert article_body(html) == ARTICLE.replace("river", "river & lake")
    assert article_body('<script type="application/ld+json">{"articleBody": "Short teaser only."}</script>') is None
    assert article_body('<script type="application/ld+json">{broken</script>') is None


def test_a_shown_description_the_extraction_missed_becomes_the_lead():
    lead = "Engineers finished the new flood wall two months early and under budget, the city said."
    page_text = f"Menu Home News {lead} By Jane Roe {ARTICLE} Related stories"
    assert missing_lead(lead, ARTICLE, lambda: page_text) == lead
    assert missing_lead(lead, f"{lead}\n{ARTICLE}", lambda: page_text) is None  # already there
    assert missing_lead(lead, ARTICLE, lambda: ARTICLE) is None  # a summary the page never shows
    assert missing_lead("Flood wall news.", ARTICLE, lambda: page_text) is None  # a label, not a lead


def test_the_description_is_only_looked_up_on_the_page_when_needed():
    def fail():
        raise AssertionError("visible text computed for nothing")

    assert missing_lead(None, ARTICLE, fail) is None
    assert missing_lead(" ".join(ARTICLE.split()[:12]), ARTICLE, fail) is None
