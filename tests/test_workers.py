"""Worker pools: the same results in the same order as in-process, for extraction and cleaning alike."""
import os
import signal
from dataclasses import replace

from newsflow.extractors.cleaning import clean_batch
from newsflow.extractors.records import Draft
from newsflow.extractors.settings import Dedup, Limits
from newsflow.extractors.workers import MIN_ITEMS_FOR_POOL, map_documents, use_pool, worker_pool


def test_small_batches_and_one_process_stay_in_process():
    assert not use_pool(2, MIN_ITEMS_FOR_POOL - 1)
    assert not use_pool(1, 1000)
    assert use_pool(2, MIN_ITEMS_FOR_POOL)


def test_map_documents_keeps_order_on_the_pool():
    items = [f"item number {n}" for n in range(50)]
    assert map_documents(str.upper, items, 2) == [s.upper() for s in items]


def test_cleaning_on_the_pool_matches_in_process(samples_dir):
    texts = [p.read_text(encoding="utf-8") for p in sorted(samples_dir.glob("*.txt"))]
    # Enough drafts for a pool; three share a site, so chrome is learned within the batch too.
    drafts = [Draft(f"d{n}", text, site="kabar.example" if n % 3 == 0 else None)
              for n, text in enumerate(texts * (MIN_ITEMS_FOR_POOL // len(texts) + 2))]
    serial_keys: dict = {}
    pooled_keys: dict = {}
    serial = clean_batch(drafts, {}, replace(Limits(), extract_processes=1), Dedup(), serial_keys)
    pooled = clean_batch(drafts, {}, replace(Limits(), extract_processes=2), Dedup(), pooled_keys)
    assert use_pool(2, len(drafts))
    assert pooled == serial
    as_lists = lambda keys: {k: (v.text_sha256, v.shingles.tolist(), v.signature, v.bands) for k, v in keys.items()}  # noqa: E731
    assert as_lists(pooled_keys) == as_lists(serial_keys) and set(pooled_keys) == {d.document_id for d in drafts}
    assert {a.language for a in pooled[0]} - {None}  # languages were detected in the workers


def _interrupted(n: int) -> int:
    os.kill(os.getpid(), signal.SIGINT)  # as a terminal's Ctrl-C reaches every process of the group
    return n * 2


def test_workers_leave_ctrl_c_to_the_main_process():
    # A worker killed mid-document would lose its result, and a read-ahead thread would wait for it.
    with worker_pool(2, 8) as pool:
        assert pool.map_async(_interrupted, range(8), chunksize=1).get(timeout=60) == [n * 2 for n in range(8)]
