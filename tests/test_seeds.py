"""Seeds: read from seeds/*.txt, stored idempotently in a real DuckDB warehouse."""

from __future__ import annotations

import shutil
from pathlib import Path

from tasks.understand.normalise import content_hash
from tasks.understand.seeds import changed_seeds, load_seeds
from warehouse.db import Warehouse
from warehouse.loader import seed_hashes, store_seeds

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def test_one_seed_per_file_with_the_file_as_written():
    seeds = load_seeds(SEEDS)
    files = sorted(SEEDS.glob("*.txt"))
    assert [s.seed_id for s in seeds] == [f.stem for f in files]
    for seed, path in zip(seeds, files):
        assert seed.text == path.read_text(encoding="utf-8")
        assert seed.content_hash == content_hash(seed.normalized_text)
        paragraphs = seed.normalized_text.split("\n")
        assert len(paragraphs) == len(set(paragraphs))


def test_titles_are_the_headline_when_there_is_one():
    titles = {s.seed_id[:3]: s.title for s in load_seeds(SEEDS)}
    assert titles["003"] == "GT Voice: Synergy between mainland AI companies, HK market fosters new tech financing hub"
    assert titles["004"].startswith("Hong Kong's AI-Driven Infrastructure Surge")
    # No headline line: the first sentence stands in, never a whole paragraph.
    assert titles["000"] == "For decades, Hong Kong has served as China's 'golden gateway' to global capital markets."
    assert all(0 < len(t) <= 130 for t in titles.values())


def test_headline_is_not_part_of_the_normalised_body():
    seed = next(s for s in load_seeds(SEEDS) if s.seed_id.startswith("004"))
    assert not seed.normalized_text.startswith("Hong Kong's AI-Driven Infrastructure Surge")


def test_stored_seeds_are_upserted_and_a_changed_file_replaces_its_row(tmp_path):
    warehouse = Warehouse(tmp_path / "hkai.duckdb")
    seeds = load_seeds(SEEDS)
    for _ in range(2):  # storing the same files again changes nothing
        with warehouse.transaction() as con:
            store_seeds(con, seeds)
    assert seed_hashes(warehouse) == {s.seed_id: s.content_hash for s in seeds}

    changed_dir = tmp_path / "seeds"
    shutil.copytree(SEEDS, changed_dir)
    first = sorted(changed_dir.glob("*.txt"))[0]
    first.write_text(first.read_text(encoding="utf-8") + "\nA new closing paragraph.\n", encoding="utf-8")
    changed = load_seeds(changed_dir)
    assert changed[0].content_hash != seeds[0].content_hash
    with warehouse.transaction() as con:
        store_seeds(con, changed[:1])
    assert seed_hashes(warehouse) == {s.seed_id: s.content_hash for s in changed}
    assert warehouse.query("SELECT title, text FROM seeds WHERE seed_id = ?", [first.stem]) == [
        (changed[0].title, changed[0].text)
    ]


def test_storing_no_seeds_is_a_no_op(tmp_path):
    warehouse = Warehouse(tmp_path / "hkai.duckdb")
    with warehouse.transaction() as con:
        store_seeds(con, [])
    assert seed_hashes(warehouse) == {}


def test_only_new_and_changed_seed_files_are_stored_again():
    seeds = load_seeds(SEEDS)
    stored = {s.seed_id: s.content_hash for s in seeds}
    assert changed_seeds(seeds, stored) == []
    stored[seeds[0].seed_id] = "an older hash"
    del stored[seeds[1].seed_id]
    assert [s.seed_id for s in changed_seeds(seeds, stored)] == [seeds[0].seed_id, seeds[1].seed_id]
