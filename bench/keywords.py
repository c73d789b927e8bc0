"""Keyword alerts: what deciding 1,000 keyword subscriptions costs per new post.

``python -m bench.keywords [--subs 1000] [--posts 2000] [--seed 1]`` builds the fanout of
``--subs`` keyword subscriptions (1-5 words or phrases each, a fifth with an exclusion;
targets: everyone, one of 5,000 officials, or a watchlist) exactly as
``bot.store.fanout.load_fanout`` does, then times ``Fanout.targets(official, "new_post",
text)`` (match every subscription's words, then targets, mutes, one delivery per chat)
over ``--posts`` invented posts of 20-150 words in Russian, Kazakh and English (about
150-1,100 characters; the alert payload keeps 1,000). The per-post time is the mean of
the whole run after one warm-up pass (the stems of a post's words are cached as the
poller's are). For comparison it also times the naive way: one compiled regular
expression per subscription word, tried in a loop. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections.abc import Sequence

from bot.demo.script import TEXTS
from bot.detect.keywords import Query, parse_words
from bot.store.fanout import KEYWORD_KINDS, Fanout, KeywordRules, KeywordSub, WatchlistRules
from bot.words import tokens

TARGET_MS = 0.2
#: Everyday words of the news (ru, kk, en): what journalists subscribe to.
_EXTRA = (
    "тариф",
    "тарифы",
    "тарифтер",
    "цены",
    "газ",
    "бензин",
    "свет",
    "вода",
    "отопление",
    "референдум",
    "выборы",
    "депутат",
    "бюджет",
    "налог",
    "пенсия",
    "зарплата",
    "школа",
    "больница",
    "дорога",
    "мост",
    "паводок",
    "коррупция",
    "суд",
    "акимат",
    "министр",
    "правительство",
    "парламент",
    "закон",
    "реформа",
    "инфляция",
    "кредит",
    "ипотека",
    "жилье",
    "бағасы",
    "жарнама",
    "сайлау",
    "зейнетақы",
    "жалақы",
    "мектеп",
    "аурухана",
    "жол",
    "салық",
    "заң",
    "price",
    "tariff",
    "budget",
    "election",
    "reform",
    "school",
    "hospital",
    "road",
)


def vocabulary() -> list[str]:
    """Words of the demo's posts plus everyday words of the news (ru, kk, en)."""
    words = [t.word for texts in TEXTS.values() for text in texts for t in tokens(text)]
    return sorted({w for w in (*words, *_EXTRA) if len(w) > 2 and not w.isdigit()})


def filler(rng: random.Random, n: int) -> list[str]:
    """``n`` made-up Cyrillic words: the rest of a post, which nobody subscribes to."""
    letters = "абвгдежзиклмнопрстуфхцчшыэюяәғқңөұүі"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 11))) for _ in range(n)]


def make_posts(
    rng: random.Random, vocab: Sequence[str], rest: Sequence[str], n: int, *, topical: float
) -> list[str]:
    """``n`` posts of 20-150 words, a ``topical`` share of them from ``vocab`` (the words
    subscriptions use), the others from ``rest`` (Zipf-like); cut to 1,000 characters."""
    weights = [1 / (rank + 1) for rank in range(len(rest))]
    posts = []
    for _ in range(n):
        count = rng.randint(20, 150)
        picks = rng.choices(rest, weights, k=count) if rest else []
        words = [rng.choice(vocab) if not picks or rng.random() < topical else picks[i]
                 for i in range(count)]  # fmt: skip
        text = " ".join(w + ("." if rng.random() < 0.1 else "") for w in words).capitalize()
        posts.append(text[:1000])
    return posts


def make_queries(rng: random.Random, vocab: Sequence[str], n: int) -> list[Query]:
    """``n`` subscriptions' words: 1-5 items, a quarter phrases, a fifth with an exclusion."""
    queries = []
    for _ in range(n):
        items = []
        for _ in range(rng.randint(1, 5)):
            if rng.random() < 0.25:
                items.append('"' + " ".join(rng.sample(vocab, rng.randint(2, 3))) + '"')
            else:
                items.append(rng.choice(vocab))
        if rng.random() < 0.2:
            items.append("-" + rng.choice(vocab))
        try:
            queries.append(parse_words(items))
        except ValueError:  # the same word drawn wanted and excluded: draw again
            queries.append(parse_words([rng.choice(vocab)]))
    return queries


def make_fanout(rng: random.Random, queries: Sequence[Query]) -> tuple[Fanout, float]:
    """The fanout ``load_fanout`` would build, and the milliseconds compiling it took."""
    fanout = Fanout(watchlists_of={o: [WatchlistRules(o % 20, None, None, None)]
                                   for o in range(5000)})  # fmt: skip
    rules = []
    for number, query in enumerate(queries):
        kind = rng.choice(("all", "official", "official", "watchlist"))
        target = {"all": 0, "official": rng.randrange(5000), "watchlist": rng.randrange(20)}[kind]
        sub = KeywordSub(number, number % 700, kind, target, KEYWORD_KINDS, "immediate")
        rules.append((sub, query))
    start = time.perf_counter()
    fanout.keywords = KeywordRules(rules)
    return fanout, (time.perf_counter() - start) * 1000


def time_fanout(fanout: Fanout, posts: Sequence[str], rng: random.Random) -> tuple[float, float]:
    """(ms per post, deliveries per post) for ``Fanout.targets`` over ``posts``."""
    officials = [rng.randrange(5000) for _ in posts]
    for official, text in zip(officials, posts, strict=True):  # warm-up: stems cached
        fanout.targets(official, "new_post", text)
    start = time.process_time()
    delivered = 0
    for official, text in zip(officials, posts, strict=True):
        delivered += len(fanout.targets(official, "new_post", text))
    elapsed = time.process_time() - start
    return elapsed * 1000 / len(posts), delivered / len(posts)


def time_regex_loop(queries: Sequence[Query], posts: Sequence[str]) -> float:
    """ms per post for the naive way: a regular expression per word, tried one by one."""
    patterns = [
        re.compile(r"\b" + r"\W+".join(re.escape(w) for w in item.words), re.IGNORECASE)
        for query in queries
        for item in query.items
    ]
    sample = posts[: max(1, len(posts) // 10)]
    start = time.perf_counter()
    for text in sample:
        for pattern in patterns:
            pattern.search(text)
    return (time.perf_counter() - start) * 1000 / len(sample)


def scenario(args: argparse.Namespace, topical: float) -> dict[str, object]:
    """Build one world of subscriptions and posts and time it."""
    rng = random.Random(args.seed)
    vocab = vocabulary()
    rest = filler(rng, 20_000) if topical < 1 else []
    posts = make_posts(rng, vocab, rest, args.posts, topical=topical)
    queries = make_queries(rng, vocab, args.subs)
    fanout, compile_ms = make_fanout(rng, queries)
    runs = [time_fanout(fanout, posts, random.Random(args.seed)) for _ in range(args.repeat)]
    times = sorted(ms for ms, _ in runs)
    return {
        "topical_share": topical,
        "mean_post_chars": round(sum(map(len, posts)) / len(posts)),
        "matching_subscriptions_per_post": round(_matched(fanout, posts), 1),
        "deliveries_per_post": round(runs[0][1], 2),
        "ms_per_post": round(times[len(times) // 2], 4),
        "ms_per_post_best": round(times[0], 4),
        "index_build_ms": round(compile_ms, 2),
        "regex_loop_ms_per_post": round(time_regex_loop(queries, posts), 3),
    }


def _matched(fanout: Fanout, posts: Sequence[str]) -> float:
    """Subscriptions whose words a post matches, whatever their target, per post."""
    return sum(len(fanout.keywords.index.matching(p)) for p in posts) / len(posts)


def main(argv: list[str] | None = None) -> None:
    """Run the bench and print its JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.keywords", description=__doc__)
    parser.add_argument("--subs", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs (median reported)")
    parser.add_argument(
        "--topical", type=float, default=0.05, help="share of a post's words that subscriptions use"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    typical = scenario(args, args.topical)
    dense = scenario(args, 1.0)
    result = {
        "bench": "keywords",
        "subscriptions": args.subs,
        "posts": args.posts,
        "ms_per_post": typical["ms_per_post"],
        "target_ms_per_post": TARGET_MS,
        "within_target": float(typical["ms_per_post"]) <= TARGET_MS,  # type: ignore[arg-type]
        "typical": typical,
        "dense": dense,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
