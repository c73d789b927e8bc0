"""Same text from several officials: what one new post costs with many recent posts stored.

``python -m bench.same [--recent 50000] [--accounts 5000] [--batches 40] [--batch 25]
[--pg auto|URL]`` stores ``--recent`` sketches of posts published in the last two hours
(the window: what 100,000 accounts posting a few times a day leave in it), with their
20 band keys each, then times the real ``bot.store.sameness.coordinate`` (sketch each new
post, store its sketch and band keys, one indexed candidate lookup per batch, check the
candidates, and raise ``coordinated_posts`` with its deliveries) for ``--batches`` write
batches of ``--batch`` new posts, inside a transaction as the poll's write runs it. One
batch in ten carries the same text from three officials, so groups are formed as well.
For comparison it times the naive way on the same data: for a new post, read every
sketch of the window and compare it (what "no scan of all recent posts" avoids).

The stored sketches are random signatures (unrelated posts share no band key but by
chance, as real unrelated texts do); new posts are real texts of 20-80 words. Prints
one JSON line per database with the load average beside the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import insert, select

from bench.common import drop_database, fresh_database, now_utc, percentile, rnd, seed_accounts
from bot.detect.sameness import PERMUTATIONS, SameRules, band_keys, similarity, sketch
from bot.detect.state import Detection, State
from bot.domain import Event, EventKind, PostSeen
from bot.store.engine import Database
from bot.store.models import EventRow, Post, PostBand, PostSketch
from bot.store.sameness import SameText, coordinate, seconds

WINDOW = timedelta(hours=2)
_VOCABULARY = (
    "правительство заседание министр аким область район школа больница дорога мост "
    "бюджет налог тариф газ свет вода отопление фермер субсидия кредит ипотека жилье "
    "выборы депутат закон реформа инфляция пенсия зарплата встреча жители ремонт "
    "строительство программа поддержка развитие регион страна республика Астана Алматы "
    "үкімет ауыл мектеп жол салық заң бағасы жалақы зейнетақы жиналыс тұрғындар"
)
_WORDS = tuple(_VOCABULARY.split())


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(20, 80))).capitalize() + "."


async def _load(db: Database, *, recent: int, accounts: int, seed: int) -> int:
    """Store ``recent`` posts with random sketches over the last two hours; the next post id."""
    rng = np.random.default_rng(seed)
    now = now_utc()
    step = 5000
    for lo in range(0, recent, step):
        hi = min(lo + step, recent)
        posts, sketches, bands = [], [], []
        for i in range(lo, hi):
            at = now - WINDOW * float(rng.random())
            signature = rng.integers(0, 2**32, size=PERMUTATIONS, dtype=np.uint32)
            posts.append({"id": i + 1, "account_id": i % accounts + 1,
                          "platform_post_id": f"r{i}", "published_at": at, "text": "",
                          "first_seen_at": at, "last_seen_at": at})  # fmt: skip
            sketches.append({"post_id": i + 1, "account_id": i % accounts + 1,
                             "official_id": i % accounts + 1, "published_at": at,
                             "signature": signature.astype("<u4").tobytes()})  # fmt: skip
            bands += [{"post_id": i + 1, "band": n, "band_key": key, "published_s": seconds(at)}
                      for n, key in enumerate(band_keys(signature))]  # fmt: skip
        async with db.engine.begin() as conn:
            await conn.execute(insert(Post), posts)
            await conn.execute(insert(PostSketch), sketches)
            await conn.execute(insert(PostBand), bands)
    return recent + 1


def _observed(
    rng: random.Random, next_id: int, batch: int, accounts: int, *, group: bool
) -> tuple[list[tuple[int, int, Detection, Any]], list[dict[str, Any]], dict[tuple[int, str], int]]:
    """A write batch of new posts: (observed, post rows, ids); with ``group``, three of them
    are the same text from three officials."""
    now = now_utc()
    shared = _text(rng)
    observed, rows, ids = [], [], {}
    state = State(status="ok", first_seen_at=now, observed_at=now)
    for n in range(batch):
        account = rng.randrange(accounts) + 1
        text = f"{shared} #tag{n}" if group and n < 3 else _text(rng)
        if group and n < 3:
            account = n + 1  # three different officials
        post_id = next_id + n
        pid = f"n{post_id}"
        seen = PostSeen(id=pid, url=f"https://t.me/x/{post_id}", published_at=now, text=text)
        event = Event(EventKind.NEW_POST, account, now, f"{account}:new_post:{pid}",
                      {"post_id": pid})  # fmt: skip
        observed.append((account, account, Detection(state, [event], [seen]), now))
        rows.append({"id": post_id, "account_id": account, "platform_post_id": pid,
                     "published_at": now, "text": text, "url": seen.url,
                     "first_seen_at": now, "last_seen_at": now})  # fmt: skip
        ids[(account, pid)] = post_id
    return observed, rows, ids


async def _time(db: Database, *, next_id: int, accounts: int, batches: int, batch: int,
                seed: int) -> dict[str, Any]:  # fmt: skip
    rng = random.Random(seed)
    same = SameText(SameRules())
    same.pruned_at = now_utc()  # time the detection, not the ten-minutely prune
    per_post: list[float] = []
    groups = 0
    for number in range(batches):
        observed, rows, ids = _observed(rng, next_id, batch, accounts, group=number % 10 == 5)
        next_id += batch
        async with db.engine.begin() as conn:
            await conn.execute(insert(Post), rows)
            start = time.perf_counter()
            found, _ = await coordinate(conn, db.dialect, observed, ids,
                                        detected_at=now_utc(), same=same)  # fmt: skip
            per_post.append((time.perf_counter() - start) * 1000 / batch)
            groups += found
    async with db.sessions() as session:
        stored = len((await session.scalars(select(EventRow.id))).all())
    # the naive way, on the same rows: every sketch of the window read and compared
    probe = sketch(_text(rng))
    assert probe is not None
    naive: list[float] = []
    for _ in range(3):
        start = time.perf_counter()
        async with db.engine.connect() as conn:
            lo = now_utc() - WINDOW
            rows_ = await conn.execute(
                select(PostSketch.signature).where(PostSketch.published_at >= lo)
            )
            hits = sum(similarity(bytes(s), probe.signature) >= 0.8 for (s,) in rows_)
        naive.append((time.perf_counter() - start) * 1000)
    del hits
    ms = sum(per_post) / len(per_post)
    return {
        "ms_per_new_post": rnd(ms, 3),
        "ms_per_new_post_p95_batch": rnd(percentile(per_post, 95), 3),
        "naive_scan_ms_per_new_post": rnd(min(naive), 1),
        "naive_over_indexed": rnd(min(naive) / ms if ms else None, 0),
        "groups_raised": groups,
        "events_stored": stored,
    }


def _sketch_us(seed: int) -> float:
    rng = random.Random(seed)
    texts = [_text(rng) for _ in range(500)]
    start = time.perf_counter()
    for text in texts:
        sketch(text)
    return (time.perf_counter() - start) * 1e6 / len(texts)


async def run(*, recent: int, accounts: int, batches: int, batch: int, pg: str | None,
              seed: int = 1) -> dict[str, Any]:  # fmt: skip
    """Load and time each database; the numbers as one dict."""
    result: dict[str, Any] = {
        "recent_sketches": recent,
        "band_rows": recent * 20,
        "batch": batch,
        "batches": batches,
        "sketch_us_per_post": rnd(_sketch_us(seed), 1),
    }
    kinds = ["sqlite"] + (["postgres"] if pg else [])
    for kind in kinds:
        url = await fresh_database(kind, label="same") if kind == "sqlite" or pg == "auto" else pg
        assert url is not None
        db = Database(url)
        try:
            await seed_accounts(db, accounts)
            start = time.perf_counter()
            next_id = await _load(db, recent=recent, accounts=accounts, seed=seed)
            load_s = time.perf_counter() - start
            numbers = await _time(db, next_id=next_id, accounts=accounts, batches=batches,
                                  batch=batch, seed=seed)  # fmt: skip
            result[kind] = {"load_s": rnd(load_s, 1), **numbers}
        finally:
            await db.close()
            if kind == "sqlite" or pg == "auto":
                await drop_database(url)
    result["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    return result


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recent", type=int, default=50_000)
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--pg", default=None, help="a PostgreSQL URL, or auto for the local one")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    numbers = asyncio.run(
        run(recent=args.recent, accounts=args.accounts, batches=args.batches,
            batch=args.batch, pg=args.pg, seed=args.seed)
    )  # fmt: skip
    print(json.dumps(numbers))


if __name__ == "__main__":
    main()
