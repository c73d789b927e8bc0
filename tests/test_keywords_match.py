"""The keyword matcher (pure): parsing words, matching posts, highlighting, the fanout rule."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands.parsing import split_command
from bot.detect.keywords import (
    MAX_ITEMS,
    AlertWords,
    KeywordIndex,
    Query,
    QueryError,
    find_hits,
    make_item,
    make_query,
    parse_words,
    stored_query,
)
from bot.notify.marks import highlight_quotes, marker_lines
from bot.reply import Span
from bot.store.fanout import (
    DIGEST,
    PENDING,
    Fanout,
    KeywordRules,
    KeywordSub,
    Sub,
    WatchlistRules,
)
from bot.words import tokens


def q(text: str) -> Query:
    """A query typed as /subscribe would split it (quotes as shlex leaves them)."""
    return parse_words(split_command(f"/x {text}")[1])


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ('тариф, "цены на газ", -реклама', ["тариф", '"цены на газ"', "-реклама"]),
        ("тариф,газ", ["тариф", "газ"]),
        ("тариф газ", ["тариф", "газ"]),
        ("«цены на газ»", ['"цены на газ"']),
        ('тариф -"реклама товаров"', ["тариф", '-"реклама товаров"']),
        ("тариф - реклама", ["тариф", "-реклама"]),
        ("Тариф, тариф, ТАРИФ", ["Тариф"]),
        ("covid-19", ["covid-19"]),
    ],
)
def test_parse_words(typed: str, stored: list[str]) -> None:
    query = q(typed)
    assert query.stored() == stored
    assert stored_query(query.stored()) == query  # the stored form reads back the same


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "empty"),
        (",,", "empty"),
        ("-реклама", "only_exclusions"),
        ("!!!", "no_words"),
        ("тариф, -тариф", "conflict"),
        ('"один два три четыре пять шесть семь восемь девять"', "too_long_phrase"),
        (", ".join(f"w{i}" for i in range(MAX_ITEMS + 1)), "too_many"),
        ("x" * 101, "too_long_item"),
    ],
)
def test_parse_words_refuses(typed: str, code: str) -> None:
    with pytest.raises(QueryError) as caught:
        q(typed)
    assert caught.value.code == code


QUERY = 'тариф, "цены на газ", -реклама'


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("Новые тарифы на электричество", True),  # ru plural
        ("О тарифах на воду", True),  # ru prepositional plural
        ("Тарифтер өсті", True),  # kk plural
        ("Тарифтерді қайта қарау", True),  # kk plural + accusative
        ("Цены на газ выросли", True),  # the phrase
        ("цен на газ не будет", True),  # the phrase, another form of its first word
        ("Цены, на газ!", True),  # punctuation between a phrase's words does not count
        ("На газ цены выросли", False),  # the phrase's words out of order
        ("Цены на бензин и газ", False),  # not adjacent
        ("Газета пишет о ценах", False),  # газета is not газ
        ("Реклама: новые тарифы", False),  # excluded
        ("Тарифы. Рекламы больше не будет", False),  # excluded, in another form
        ("Тарифик", False),  # another word that starts the same
        ("", False),
    ],
)
def test_match_word_forms_phrases_and_exclusions(text: str, matches: bool) -> None:
    index = KeywordIndex([("chat", q(QUERY))])
    assert index.matching(text) == (["chat"] if matches else [])


@pytest.mark.parametrize(
    ("query", "text", "matches"),
    [
        ("референдум", "Проведение референдума назначено", True),
        ("референдум", "Референдумға дайындық", True),
        ("референдум", "референдумда", True),
        ("tariff", "New tariffs announced", True),
        ("tariffs", "The tariff rises", True),
        ('"energy prices"', "Energy prices are up", True),
        ('"energy prices"', "Prices of energy are up", False),
        ("Ёлка", "ёлки и елки", True),
        ("covid-19", "Covid 19: новые правила", True),
        ("covid-19", "Covid: 19 новых правил", True),  # adjacent words, punctuation ignored
        ("covid-19", "covid-2019", False),
    ],
)
def test_match_table(query: str, text: str, matches: bool) -> None:
    index = KeywordIndex([(1, q(query))])
    assert index.matching(text) == ([1] if matches else [])


def test_many_queries_each_decided_on_its_own() -> None:
    index = KeywordIndex(
        [(1, q("тариф")), (2, q("тариф, -реклама")), (3, q('"цены на газ"')), (4, q("газ"))]
    )
    assert set(index.matching("Реклама: тарифы и цены на газ")) == {1, 3, 4}
    assert set(index.matching("Тарифы на газ")) == {1, 2, 4}
    assert set(index.matching("ничего похожего")) == set()
    assert len(index) == 4


def test_hits_say_which_items_and_where() -> None:
    hits = find_hits([q('тариф, "цены на газ"')], tokens("Тарифы и цены на газ"))
    assert [(h.item, h.first, h.last) for h in hits] == [(0, 0, 0), (1, 2, 4)]


def test_among_limits_the_queries_looked_at() -> None:
    index = KeywordIndex([("a", q("тариф")), ("b", q('"цены на газ"')), ("c", q("газ"))])
    text = "Тарифы и цены на газ"
    assert index.matching(text, among=index.mask(["b", "c"])) == ["b", "c"]
    assert index.matching(text, among=index.mask(["a"])) == ["a"]
    assert index.matching(text, among=0) == []


def test_marks_highlight_only_what_counted() -> None:
    words = AlertWords(
        keywords=(q('тариф, "цены на газ"'), q("свет, -реклама")),
        watchwords=(("kz-gov", q("газ")), ("other", q("вода"))),
    )
    text = "Новые тарифы на свет. Реклама. Цены на газ"
    marks = words.marks(text)
    assert [text[a:b] for a, b in marks.ranges] == ["тарифы", "Цены на газ"]
    assert [i.text for i in marks.matched] == ["тариф", "цены на газ"]  # "свет" was vetoed
    assert [(name, [i.text for i in items]) for name, items in marks.watch] == [("kz-gov", ["газ"])]


def _quote(text: str) -> list[tuple[Span, ...]]:
    return [(Span(part, italic=True),) for part in text.splitlines() if part.strip()]


def test_quoted_lines_are_highlighted() -> None:
    words = AlertWords(keywords=(q("тариф"),))
    post = "Первая строка\n\nНовые тарифы:\nтарифтер"
    note = (Span("Press Evidence: тарифы", italic=True),)  # not the post's text: untouched
    lines = [(Span("New post"),), *_quote(post), note]
    assert highlight_quotes(lines, {"text": post}, words) == [
        (Span("New post"),),
        (Span("Первая строка", italic=True),),
        (
            Span("Новые ", italic=True),
            Span("тарифы", bold=True, italic=True),
            Span(":", italic=True),
        ),
        (Span("тарифтер", bold=True, italic=True),),
        note,
    ]
    assert highlight_quotes(lines, {"text": post}, None) == lines
    assert highlight_quotes(lines, {"text": "ничего"}, words) == lines


def test_a_diff_line_is_highlighted_in_its_kept_and_added_words() -> None:
    words = AlertWords(keywords=(q("тариф"),))
    post = "Новые тарифы снова выросли"
    line = (
        Span("Новые тарифы "),
        Span("уже", strike=True),
        Span(" "),
        Span("снова", bold=True, inserted=True),
        Span(" выросли"),
    )
    assert highlight_quotes([line], {"text": post}, words) == [
        (
            Span("Новые "),
            Span("тарифы", bold=True),
            Span(" "),
            Span("уже", strike=True),
            Span(" "),
            Span("снова", bold=True, inserted=True),
            Span(" выросли"),
        )
    ]
    removed = (Span("тарифы", strike=True), Span(" "), Span("цены", bold=True, inserted=True))
    assert highlight_quotes([removed], {"text": "цены тарифы"}, words) == [removed]


def test_a_cut_quote_and_an_exclusion_on_another_line() -> None:
    words = AlertWords(keywords=(q("тариф, -реклама"), q("газ")))
    post = "Реклама\nтарифы и газ"
    # the veto is decided on the whole text: тарифы is not marked, газ (another query) is
    assert highlight_quotes(_quote(post), {"text": post}, words)[1] == (
        Span("тарифы и ", italic=True),
        Span("газ", bold=True, italic=True),
    )
    cut = "Цены на газовое и тарифы"
    words = AlertWords(keywords=(q("тарифы"),))
    line = (Span("Цены на газовое и тари…", italic=True),)
    assert highlight_quotes([line], {"text": cut}, words) == [
        (Span("Цены на газовое и ", italic=True), Span("тари", bold=True, italic=True),
         Span("…", italic=True)),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "locale", "expected"),
    [
        ("new_post", "en", ["🔎 Matches: тариф, “цены на газ”", "🏷 Watchwords of kz-gov: газ"]),
        (
            "post_edited",
            "ru",
            ["🔎 Совпадение: тариф, «цены на газ»", "🏷 Слова-метки списка kz-gov: газ"],
        ),
        (
            "post_deleted",
            "kk",
            ["🔎 Сәйкес келді: тариф, «цены на газ»", "🏷 kz-gov тізімінің белгі сөздері: газ"],
        ),
        ("followers_up", "en", []),
    ],
)
def test_marker_lines(kind: str, locale: str, expected: list[str]) -> None:
    words = AlertWords(keywords=(q('тариф, "цены на газ"'),), watchwords=(("kz-gov", q("газ")),))
    payload = {"text": "Тарифы: цены на газ"}
    lines = marker_lines(kind, payload, words, locale)
    assert ["".join(s.text for s in line) for line in lines] == expected
    assert marker_lines("new_post", {"text": "ничего"}, words, "en") == []
    assert marker_lines("new_post", payload, None, "en") == []


def _fanout(*rules: tuple[KeywordSub, str], subs: tuple[Sub, ...] = ()) -> Fanout:
    out = Fanout(subs=list(subs), watchlists_of={7: [WatchlistRules(3, None, None, None)]})
    out.keywords = KeywordRules((sub, q(text)) for sub, text in rules)
    return out


BOTH = frozenset({"new_post", "post_edited"})


def test_fanout_keyword_subscriptions() -> None:
    fanout = _fanout(
        (KeywordSub(1, 100, "all", 0, BOTH, "immediate"), "тариф"),  # chat 100: anywhere
        (KeywordSub(2, 200, "official", 7, BOTH, "immediate"), "газ"),  # official 7
        (KeywordSub(3, 200, "watchlist", 3, BOTH, "immediate"), "тариф"),  # watchlist 3
        (KeywordSub(4, 300, "official", 8, BOTH, "immediate"), "тариф"),  # another official
        (KeywordSub(5, 400, "all", 0, frozenset({"new_post"}), "digest"), "тариф"),
        (KeywordSub(6, 500, "watchlist", 4, BOTH, "immediate"), "тариф"),  # another list
        subs=(Sub(100, "all", 0, frozenset(), "immediate"),),  # chat 100 also plainly
    )
    text = "Тарифы на газ"
    assert fanout.targets(7, "new_post", text) == [(100, PENDING), (200, PENDING), (400, DIGEST)]
    assert fanout.targets(7, "post_edited", text) == [(100, PENDING), (200, PENDING)]
    assert fanout.targets(7, "new_post", "Газ") == [(100, PENDING), (200, PENDING)]
    assert fanout.targets(7, "new_post", "ничего") == [(100, PENDING)]
    assert fanout.targets(8, "new_post", text) == [(100, PENDING), (300, PENDING), (400, DIGEST)]
    # keyword subscriptions get no other kinds, and nothing without the text
    assert fanout.targets(7, "post_deleted", text) == [(100, PENDING)]
    assert fanout.targets(7, "followers_up", text) == [(100, PENDING)]
    assert fanout.targets(7, "new_post") == [(100, PENDING)]
    fanout.muted = {(200, 7)}
    assert fanout.targets(7, "new_post", "газ") == [(100, PENDING)]


WORDS = ["тариф", "тарифы", "тарифтер", "газ", "цены", "на", "свет", "реклама", "вода", "и"]


@given(
    queries=st.lists(
        st.lists(
            st.tuples(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3), st.booleans()),
            min_size=1,
            max_size=4,
        ),
        min_size=1,
        max_size=12,
    ),
    text=st.lists(st.sampled_from([*WORDS, "газета", ",", "."]), max_size=30),
    among=st.integers(min_value=0, max_value=(1 << 12) - 1),
)
@settings(max_examples=300, deadline=None)
def test_index_agrees_with_the_plain_search(
    queries: list[list[tuple[list[str], bool]]], text: list[str], among: int
) -> None:
    """The bitmask index decides exactly what looking at every item one by one does."""
    built = []
    for items in queries:
        try:
            built.append(make_query(make_item(" ".join(w), exclude=x) for w, x in items))
        except QueryError:
            continue
    body = " ".join(text)
    index = KeywordIndex(enumerate(built))
    hits = find_hits(built, tokens(body))
    vetoed = {h.rule for h in hits if built[h.rule].items[h.item].exclude}
    expected = sorted({h.rule for h in hits if not built[h.rule].items[h.item].exclude} - vetoed)
    assert index.matching(body) == expected
    assert index.matching(body, among) == [r for r in expected if among >> r & 1]


def test_the_bench_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """bench/keywords.py end to end on a tiny world (its timing is not asserted here)."""
    import json

    from bench import keywords as bench

    bench.main(["--subs", "50", "--posts", "40", "--repeat", "1"])
    result = json.loads(capsys.readouterr().out)
    assert result["subscriptions"] == 50
    assert result["ms_per_post"] == result["typical"]["ms_per_post"]
    assert result["dense"]["matching_subscriptions_per_post"] > 0
    assert 0 < result["typical"]["deliveries_per_post"] <= 50
