"""The one spaCy pipeline: NER on relevant English originals, known organisations named canonically."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from schemas.records import Article
from tasks.understand.nlp import ENTITY_PIPES, extract_entities, load_nlp, normalise_entity
from tasks.understand.seeds import load_seeds

SEEDS = {s.seed_id[:3]: s for s in load_seeds(Path(__file__).resolve().parents[1] / "seeds")}


def article(article_id: str, text: str, *, relevant: bool = True, duplicate_of: str | None = None,
            language: str | None = "en") -> Article:
    return Article(article_id=article_id, url=f"https://example.test/{article_id}",
                   canonical_url=f"https://example.test/{article_id}", source="test", language=language,
                   fetched_at=datetime(2026, 1, 1, tzinfo=timezone.utc), text=text, is_relevant=relevant,
                   duplicate_of=duplicate_of)


@pytest.fixture(scope="module")
def nlp():
    return load_nlp()


def test_one_pipeline_per_process_with_the_parser_and_the_ruler_before_ner(nlp):
    assert load_nlp() is nlp
    assert {"parser", "lemmatizer", "entity_ruler", "ner"} <= set(nlp.pipe_names)
    assert nlp.pipe_names.index("entity_ruler") < nlp.pipe_names.index("ner")


def test_running_only_the_ruler_and_ner_keeps_the_whole_pipelines_entities(nlp):
    texts = [s.text for s in SEEDS.values()]
    full = list(nlp.pipe(texts))
    same = total = 0
    with nlp.select_pipes(enable=ENTITY_PIPES):
        lean = list(nlp.pipe(texts))
    for a, b in zip(full, lean):
        expected = {(e.start_char, e.end_char, e.label_) for e in a.ents}
        same += len(expected & {(e.start_char, e.end_char, e.label_) for e in b.ents})
        total += len(expected)
    # The parser's sentence breaks only change entities that straddle a sentence end.
    assert same / total >= 0.98


def test_known_companies_are_orgs_with_canonical_names(nlp):
    done = extract_entities(nlp, [article("s3", SEEDS["003"].text), article("s2", SEEDS["002"].text)])
    orgs = {(e.text, e.normalized) for a in done for e in a.entities if e.label == "ORG"}
    normalized = {n for _, n in orgs}
    assert {"Zhipu AI", "MiniMax", "Biren Technology", "Iluvatar CoreX", "GigaDevice", "CATL", "HKUST"} <= normalized
    assert ("Knowledge Atlas Technology Joint Stock Company", "Zhipu AI") in orgs
    assert ("Contemporary Amperex Technology Co", "CATL") in orgs or \
        ("Contemporary Amperex Technology Co Ltd", "CATL") in orgs


def test_exchange_aliases_normalise_to_hkex(nlp):
    text = ("Zhipu listed on the Hong Kong Stock Exchange. Hong Kong Exchanges and Clearing said HKEX "
            "welcomed MiniMax and Moonshot AI, and a moonshot project by SenseTime was praised.")
    entities = extract_entities(nlp, [article("x", text)])[0].entities
    by_text = {e.text: (e.label, e.normalized) for e in entities}
    assert by_text["Hong Kong Stock Exchange"] == ("ORG", "HKEX")
    assert by_text["Hong Kong Exchanges and Clearing"] == ("ORG", "HKEX")
    assert by_text["HKEX"] == ("ORG", "HKEX")
    assert by_text["Zhipu"] == ("ORG", "Zhipu AI")
    assert by_text["MiniMax"] == ("ORG", "MiniMax")
    assert by_text["Moonshot AI"] == ("ORG", "Moonshot AI")
    assert "moonshot" not in by_text


def test_offsets_point_into_the_original_text(nlp):
    text = SEEDS["004"].text
    entities = extract_entities(nlp, [article("s4", text)])[0].entities
    assert len(entities) > 50
    for e in entities:
        assert text[e.start_char:e.end_char] == e.text
        assert "\n" not in e.text
    labels = {e.label for e in entities}
    assert {"ORG", "GPE", "PERSON", "MONEY", "DATE"} <= labels


def test_only_relevant_english_and_chinese_originals_are_processed(nlp):
    text = "SenseTime opened a laboratory in Hong Kong with the help of Cyberport on Monday."
    chinese = "商汤科技周一在香港数码港开设新实验室，并计划招聘更多研究人员。"
    traditional = "商湯科技周一在香港數碼港開設新實驗室，並計劃招聘更多研究人員。"
    articles = [
        article("relevant", text),
        article("irrelevant", text, relevant=False),
        article("duplicate", text, duplicate_of="relevant"),
        article("chinese", chinese, language="zh"),
        article("chinese-traditional", traditional, language="zh"),
        article("chinese-unknown", chinese, language=None),
        article("chinese-irrelevant", chinese, language="zh", relevant=False),
        article("chinese-duplicate", chinese, language="zh", duplicate_of="chinese"),
        article("japanese", "商湯は香港のサイバーポートに研究所を開いた。", language="ja"),
        article("english-unknown", text, language=None),
        article("english-region", text, language="en-GB"),
    ]
    done = {a.article_id: a for a in extract_entities(nlp, articles)}
    assert [a.article_id for a in extract_entities(nlp, articles)] == [a.article_id for a in articles]
    for skipped in ("irrelevant", "duplicate", "chinese-irrelevant", "chinese-duplicate", "japanese"):
        assert done[skipped].entities == []
        assert done[skipped].text == {a.article_id: a for a in articles}[skipped].text
    for processed in ("relevant", "english-unknown", "english-region", "chinese", "chinese-traditional",
                      "chinese-unknown"):
        assert {"SenseTime", "Hong Kong", "Cyberport"} <= {e.normalized for e in done[processed].entities}


def test_entity_normalisation():
    assert normalise_entity("ORG", "the Hong Kong  Stock Exchange") == "HKEX"
    assert normalise_entity("ORG", "Knowledge Atlas Technology") == "Zhipu AI"
    assert normalise_entity("ORG", "SenseTime's") == "SenseTime"
    assert normalise_entity("GPE", "HKSAR") == "Hong Kong"
    assert normalise_entity("MONEY", "HK$4.3\n billion") == "HK$4.3 billion"
