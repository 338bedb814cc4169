"""Choosing between candidate extractions by what the other candidates and the page itself confirm."""
from newsflow.extractors.candidates import Candidate, article_body, choose, doubts

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
