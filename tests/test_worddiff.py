"""The word-level diff of an edited post: tables of edits, context, gaps and length bounds."""

from __future__ import annotations

import random

import pytest

from bot.notify.worddiff import (
    CONTEXT_CHARS,
    DIFF_CHARS,
    GAP,
    RUN_COST,
    Token,
    WordDiff,
    opcodes,
    tokens,
    word_diff,
)


def wdiff(diff: WordDiff) -> str:
    """The diff in GNU wdiff notation: [-removed-] {+added+}."""
    marks = {"same": "{}", "gap": "{}", "removed": "[-{}-]", "added": "{{+{}+}}"}
    return "".join(marks[p.kind].format(p.text) for p in diff.pieces)


def words(count: int, stem: str = "w") -> str:
    return " ".join(f"{stem}{i}" for i in range(1, count + 1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("   \n\t ", []),
        ("one", [("one", "")]),
        ("  lead and trail  ", [("lead", ""), ("and", " "), ("trail", " ")]),
        # punctuation, emoji and URLs stay with the word they touch
        ("Привет, мир!", [("Привет,", ""), ("мир!", " ")]),
        ("🔥🔥 Ура 🇰🇿", [("🔥🔥", ""), ("Ура", " "), ("🇰🇿", " ")]),
        (
            "see https://t.me/chan/7?x=1&y=2, ok",
            [("see", ""), ("https://t.me/chan/7?x=1&y=2,", " "), ("ok", " ")],
        ),
        # Kazakh letters, a hyphenated place name, a no-break space as a separator
        ("Нұр-Сұлтан\u00a0қаласы", [("Нұр-Сұлтан", ""), ("қаласы", " ")]),
        # a line break wins over the spaces around it; CRLF and blank lines are one break
        ("a \n b\r\n\r\nc\td", [("a", ""), ("b", "\n"), ("c", "\n"), ("d", " ")]),
        # mixed scripts inside one word are one word
        ("Qazaqstan-Қазақстан2026", [("Qazaqstan-Қазақстан2026", "")]),
    ],
)
def test_tokens(text: str, expected: list[tuple[str, str]]) -> None:
    assert tokens(text) == [Token(word, sep) for word, sep in expected]


CASES: list[tuple[str, str, str, str]] = [
    ("insertion", "a b c", "a b x c", "a b {+x+} c"),
    ("insertion of several", "a b", "a new words b", "a {+new words+} b"),
    ("insertion at the end", "a b", "a b c", "a b {+c+}"),
    ("deletion", "a b c d", "a d", "a [-b c-] d"),
    ("deletion at the start", "x y a b", "a b", "[-x y-] a b"),
    (
        "rewrites the start of a long post",
        "Old opening words. " + " ".join(f"w{i}" for i in range(1, 20)),
        "A new first sentence! " + " ".join(f"w{i}" for i in range(1, 20)),
        "[-Old opening words.-] {+A new first sentence!+} w1 w2 w3 w4 w5 w6 w7 w8 …",
    ),
    ("replacement", "a b c", "a X c", "a [-b-] {+X+} c"),
    (
        "rewrites the start of a post",
        "Сегодня мы открыли школу. Спасибо строителям и всем, кто помогал!",
        "Вчера открыли новую школу. Спасибо строителям и всем, кто помогал!",
        "[-Сегодня мы-] {+Вчера+} открыли {+новую+} школу. Спасибо строителям и всем, кто помогал!",
    ),
    ("punctuation changes the word", "в 2025 году.", "в 2025 году!", "в 2025 [-году.-] {+году!+}"),
    (
        "Kazakh and Russian in one post",
        "Бүгін мектеп ашылды. Сегодня открыли школу.",
        "Бүгін жаңа мектеп ашылды. Сегодня открыли новую школу.",
        "Бүгін {+жаңа+} мектеп ашылды. Сегодня открыли {+новую+} школу.",
    ),
    ("emoji", "Ура 🎉 друзья", "Ура 🔥 друзья", "Ура [-🎉-] {+🔥+} друзья"),
    (
        "a URL",
        "Подробнее: https://gov.kz/news/1",
        "Подробнее: https://gov.kz/news/2",
        "Подробнее: [-https://gov.kz/news/1-] {+https://gov.kz/news/2+}",
    ),
    (
        "Latin and Cyrillic",
        "Minister Асқар said",
        "Minister Asqar said",
        "Minister [-Асқар-] {+Asqar+} said",
    ),
    # the shown text keeps the new version's line breaks
    (
        "line breaks kept",
        "first\nold line\nlast",
        "first\nnew line\nlast",
        "first\n[-old-] {+new+} line\nlast",
    ),
    ("removed line", "first\ngone\nlast", "first\nlast", "first\n[-gone-]\nlast"),
    ("from nothing", "", "all new", "{+all new+}"),
    ("to nothing", "all gone", "", "[-all gone-]"),
]


@pytest.mark.parametrize(("name", "old", "new", "expected"), CASES, ids=[c[0] for c in CASES])
def test_diff_table(name: str, old: str, new: str, expected: str) -> None:
    diff = word_diff(old, new)
    assert wdiff(diff) == expected
    assert not diff.empty
    assert (diff.hidden, diff.cut) == (0, False)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("same words here", "same words here"),
        ("same  words\nhere", "same words here"),  # spacing and line breaks only
        ("  Привет,\n\n мир! 🔥 ", "Привет, мир! 🔥"),
        ("a\u00a0b", "a b"),
        ("", ""),
        ("", "  \n "),
    ],
)
def test_same_words_have_no_diff(old: str, new: str) -> None:
    diff = word_diff(old, new)
    assert diff.empty
    assert diff.pieces == ()
    assert (diff.changes, diff.hidden, diff.cut) == (0, 0, False)


def test_context_is_at_most_eight_words_each_side() -> None:
    old = words(30)
    new = old.replace("w15", "CHANGED")
    diff = word_diff(old, new)
    assert wdiff(diff) == (
        "… w7 w8 w9 w10 w11 w12 w13 w14 [-w15-] {+CHANGED+} w16 w17 w18 w19 w20 w21 w22 w23 …"
    )


def test_changes_far_apart_are_separate_lines_and_near_ones_share_context() -> None:
    old = words(60)
    far = old.replace("w10 ", "w10 A ").replace("w50 ", "w50 B ")
    assert wdiff(word_diff(old, far)) == (
        "… w3 w4 w5 w6 w7 w8 w9 w10 {+A+} w11 w12 w13 w14 w15 w16 w17 w18 …\n"
        "… w43 w44 w45 w46 w47 w48 w49 w50 {+B+} w51 w52 w53 w54 w55 w56 w57 w58 …"
    )
    near = old.replace("w10 ", "w10 A ").replace("w20 ", "w20 B ")
    diff = word_diff(old, near)
    assert diff.changes == 2
    assert "\n" not in wdiff(diff)
    assert "w11 w12 w13 w14 w15 w16 w17 w18 w19 w20 {+B+}" in wdiff(diff)


def test_long_context_words_are_shortened_by_characters() -> None:
    long_url = "https://example.com/" + "x" * 300
    diff = word_diff(f"{long_url} a b", f"{long_url} a c")
    assert wdiff(diff) == "… a [-b-] {+c+}"
    lead = " ".join(["слово"] * 60)
    diff = word_diff(f"{lead} старое", f"{lead} новое")
    context = diff.pieces[1].text
    assert len(context) <= CONTEXT_CHARS
    assert wdiff(diff).startswith("… слово")


def test_a_complete_rewrite_of_long_texts_is_bounded_and_shows_both_sides() -> None:
    old = " ".join(["старый"] * 1000)
    new = " ".join(["жаңа"] * 1000)
    diff = word_diff(old, new)
    assert diff.changes == 1
    assert (diff.hidden, diff.cut) == (0, True)
    kinds = [p.kind for p in diff.pieces]
    assert kinds == ["removed", "same", "added"]
    removed, _, added = (p.text for p in diff.pieces)
    assert removed.startswith("старый старый")
    assert removed.endswith("старый" + GAP)
    assert added.startswith("жаңа жаңа")
    assert added.endswith("жаңа" + GAP)
    assert abs(len(removed) - len(added)) < 20  # the room is shared
    assert _cost(diff) <= DIFF_CHARS


def test_many_changes_show_the_first_ones_and_count_the_rest() -> None:
    old = words(2000)
    new = " ".join(f"w{i}" if i % 40 else f"CHANGED{i}" for i in range(1, 2001))
    diff = word_diff(old, new)
    assert diff.changes == 50
    shown = wdiff(diff).count("{+CHANGED")
    assert 0 < shown < 50
    assert diff.hidden == 50 - shown
    assert wdiff(diff).splitlines()[0].startswith("… w32 w33")
    assert _cost(diff) <= DIFF_CHARS


def test_one_giant_word_is_cut_by_characters() -> None:
    diff = word_diff("x", "y" * 5000)
    [removed, _, added] = diff.pieces
    assert removed.text == "x"
    assert added.text.endswith(GAP)
    assert len(added.text) < DIFF_CHARS
    assert diff.cut


def _cost(diff: WordDiff) -> int:
    runs = sum(1 for p in diff.pieces if p.kind in ("removed", "added"))
    return sum(len(p.text) for p in diff.pieces) + RUN_COST * runs


def _random_text(rng: random.Random, count: int) -> str:
    vocabulary = ["және", "закон", "the", "🔥", "школа,", "https://gov.kz/a", "2026", "Минск"]
    seps = [" ", " ", " ", "\n", "  "]
    return "".join(rng.choice(vocabulary) + rng.choice(seps) for _ in range(count))


@pytest.mark.parametrize("seed", range(20))
def test_the_diff_replays_both_versions(seed: int) -> None:
    """Unchanged + removed words give the old text, unchanged + added the new one."""
    rng = random.Random(seed)
    old = _random_text(rng, rng.randint(0, 40))
    new = _random_text(rng, rng.randint(0, 40))
    diff = word_diff(old, new, context=10_000, limit=100_000)
    if diff.empty:
        assert old.split() == new.split()
        return
    assert all(p.kind != "gap" for p in diff.pieces)
    assert [w for p in diff.pieces if p.kind != "added" for w in p.text.split()] == old.split()
    assert [w for p in diff.pieces if p.kind != "removed" for w in p.text.split()] == new.split()


@pytest.mark.parametrize("seed", range(20))
def test_marked_runs_start_and_end_with_a_word(seed: int) -> None:
    """Every markup (Telegram <s>, Slack ~ and *) needs its run to touch no space."""
    rng = random.Random(1000 + seed)
    diff = word_diff(_random_text(rng, 60), _random_text(rng, 60))
    for piece in diff.pieces:
        if piece.kind in ("removed", "added"):
            assert piece.text == piece.text.strip() != ""


def _zipf_words(rng: random.Random, count: int) -> list[str]:
    vocabulary = [f"сөз{i}" for i in range(1500)]
    return rng.choices(vocabulary, [1 / (i + 1) for i in range(1500)], k=count)


def _adversarial() -> list[tuple[list[str], list[str]]]:
    rng = random.Random(7)
    long_text = _zipf_words(rng, 2000)
    edited = [*["НОВОЕ"], *long_text[1:1000], "ВСТАВКА", *long_text[1000:1500], *long_text[1503:]]
    return [
        # the matcher's worst case: one word everywhere (minutes of work unguarded)
        (["a"] * 2000, ["a", "b"] * 1000),
        (["a"] * 2000, ["a", "b"] * 99),
        ([rng.choice("ab") for _ in range(2000)], [rng.choice("ab") for _ in range(2000)]),
        (
            [str(rng.randrange(100)) for _ in range(2000)],
            [str(rng.randrange(100)) for _ in range(2000)],
        ),
        (long_text, edited),
        (["x", *["a"] * 500, "y"], ["x", *["a"] * 499, "y"]),
        ([], ["a"]),
        (["a"], []),
        ([], []),
    ]


@pytest.mark.parametrize(("old", "new"), _adversarial())
def test_opcodes_always_turn_the_old_words_into_the_new(old: list[str], new: list[str]) -> None:
    built: list[str] = []
    i_end = j_end = 0
    for tag, i1, i2, j1, j2 in opcodes(old, new):
        assert (i1, j1) == (i_end, j_end)  # contiguous, nothing skipped
        if tag == "equal":
            assert old[i1:i2] == new[j1:j2]
        built.extend(new[j1:j2])
        i_end, j_end = i2, j2
    assert (i_end, j_end) == (len(old), len(new))
    assert built == new


def test_a_long_text_with_frequent_words_still_finds_each_edit() -> None:
    """Past the exact matcher's budget, frequent words become junk; edits are still found."""
    old, new = _adversarial()[4]
    changes = [op[0] for op in opcodes(old, new) if op[0] != "equal"]
    assert changes == ["replace", "insert", "delete"]
    diff = word_diff(" ".join(old), " ".join(new))
    assert diff.changes == 3
    assert "{+НОВОЕ+}" in wdiff(diff)
    assert "{+ВСТАВКА+}" in wdiff(diff)


def test_a_single_long_run_of_one_word_is_found_by_its_ends() -> None:
    diff = word_diff("x " + "a " * 500 + "y", "x " + "a " * 499 + "y")
    assert diff.changes == 1
    assert wdiff(diff) == "… a a a a a a a a [-a-] y"
