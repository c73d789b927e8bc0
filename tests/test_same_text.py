"""Near-identical texts from a table: the same words with other hashtags, links, mentions,
case or punctuation are the same; different texts sharing boilerplate are not; short
posts are never compared. And the grouping rule, from small tables of sketches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.detect.sameness import (
    BANDS,
    PERMUTATIONS,
    THRESHOLD,
    SameRules,
    Sketched,
    clean_words,
    decide,
    jaccard,
    same,
    similarity,
    sketch,
)

BASE = (
    "Сегодня в Астане прошло заседание Правительства. Обсуждены меры поддержки "
    "фермеров и развитие сельского хозяйства в регионах страны."
)
LONG = (
    BASE + " Решения будут оформлены постановлением, контроль за исполнением поручен "
    "профильным министерствам и акиматам областей, отчёт о ходе работы ждут к марту. "
    "Особое внимание уделят орошению, обновлению техники и доступу сельчан к кредитам."
)
KK = (
    "Бүгін Астанада Үкімет отырысы өтті. Фермерлерді қолдау шаралары мен өңірлерде "
    "ауыл шаруашылығын дамыту мәселелері талқыланды."
)

SAME = [
    ("hashtags added", BASE, BASE + " #Үкімет #АПК #Казахстан"),
    ("hashtags in front", BASE, "#новости #правительство " + BASE),
    ("a link added", BASE, BASE + " Подробнее: https://primeminister.kz/ru/news/123?utm=tg"),
    ("a t.me link", BASE, BASE + " t.me/primeminister_kz/4567"),
    ("mentions", BASE, "@primeminister_kz " + BASE + " @minagri_kz"),
    ("case and punctuation", BASE, BASE.upper().replace(".", "!!!").replace(",", " —")),
    ("ё and е", "Ещё " + BASE, "Еще " + BASE),
    ("line breaks and emoji", BASE, BASE.replace(". ", ".\n\n🇰🇿 ")),
    ("kazakh with hashtags", KK, KK + " #Үкімет #ауылшаруашылығы https://gov.kz/x"),
    ("one word of 48 changed", LONG, LONG.replace("регионах", "районах")),
]

DIFFERENT = [
    (
        "shared opening, different news",
        BASE,
        "Сегодня в Астане прошло заседание Правительства. Обсуждены вопросы цифровизации, "
        "развития связи и подготовки IT-специалистов в университетах.",
    ),
    (
        "shared signature",
        "Встретился с жителями Карагандинской области, обсудили ремонт дорог и школ. "
        "Пресс-служба министерства, подписывайтесь на наш канал.",
        "Провёл совещание по отопительному сезону и готовности котельных в регионах. "
        "Пресс-служба министерства, подписывайтесь на наш канал.",
    ),
    (
        "same topic, own words",
        "Мы поддержим фермеров: субсидии на семена вырастут на треть уже этой весной.",
        "Фермерам увеличат субсидии на семена примерно на треть, решение принято сегодня.",
    ),
    ("russian and kazakh versions", BASE, KK),
]

SHORT = [
    ("a greeting", "Поздравляю!", "Поздравляю!"),
    (
        "a short greeting with hashtags",
        "С праздником, коллеги! #1мая",
        "С праздником, коллеги! #1мая",
    ),
    ("words only in hashtags", "#a #b #c #d #e #f #g #h #i #j", "#a #b #c #d #e #f #g #h #i #j"),
]


@pytest.mark.parametrize(("case", "a", "b"), SAME, ids=[c[0] for c in SAME])
def test_the_same_text_is_the_same(case: str, a: str, b: str) -> None:
    assert jaccard(a, b) >= THRESHOLD, case
    assert same(a, b), case
    assert same(b, a), case


@pytest.mark.parametrize(("case", "a", "b"), DIFFERENT, ids=[c[0] for c in DIFFERENT])
def test_different_texts_are_not(case: str, a: str, b: str) -> None:
    assert jaccard(a, b) < THRESHOLD, case
    assert not same(a, b), case


@pytest.mark.parametrize(("case", "a", "b"), SHORT, ids=[c[0] for c in SHORT])
def test_short_posts_are_never_compared(case: str, a: str, b: str) -> None:
    assert sketch(a) is None, case
    assert not same(a, b), case


def test_links_hashtags_and_mentions_are_taken_out_before_the_words() -> None:
    text = "Итоги года: https://x.example/a?b=1 #итоги @minfin_kz t.me/minfin/9 www.gov.kz/page"
    assert clean_words(text) == ["итоги", "года"]
    # a hashtag sign inside a word is not a hashtag
    assert clean_words("C# и F#") == ["c", "и", "f"]


def test_a_sketch_is_compact_and_stable() -> None:
    made = sketch(BASE)
    assert made is not None
    assert len(made.signature) == PERMUTATIONS * 4
    assert len(made.bands) == BANDS
    assert all(-(2**63) <= key < 2**63 for key in made.bands)
    assert sketch(BASE) == made  # the same text gives the same sketch in every process
    other = sketch(DIFFERENT[0][2])
    assert other is not None
    assert similarity(made.signature, other.signature) < THRESHOLD


AT = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
RULES = SameRules(officials=3, window=timedelta(hours=2))


def _sk(
    post_id: int, official_id: int, minutes: float, text: str = BASE, group: int | None = None
) -> Sketched:
    made = sketch(text)
    assert made is not None
    return Sketched(post_id, official_id, AT + timedelta(minutes=minutes), made.signature, group)


def test_three_officials_within_the_window_form_a_group() -> None:
    new = _sk(3, 30, 50, BASE + " #c")
    decision = decide(new, [_sk(1, 10, 0, BASE + " #a"), _sk(2, 20, 20, BASE + " #b")], RULES)
    assert decision.join is None
    assert [m.post_id for m in decision.members] == [1, 2, 3]


@pytest.mark.parametrize(
    ("case", "candidates"),
    [
        ("two officials only", [(1, 10, 0)]),
        ("one official on two platforms", [(1, 10, 0), (2, 10, 5)]),
        ("the third is outside the window", [(1, 10, -130), (2, 20, 10)]),
    ],
)
def test_not_a_group(case: str, candidates: list[tuple[int, int, int]]) -> None:
    new = _sk(9, 30, 20) if case != "two officials only" else _sk(9, 20, 20)
    assert decide(new, [_sk(*c) for c in candidates], RULES).members == (), case


def test_different_text_does_not_count_towards_a_group() -> None:
    other = DIFFERENT[0][2]
    new = _sk(3, 30, 10)
    assert decide(new, [_sk(1, 10, 0), _sk(2, 20, 5, other)], RULES).members == ()


def test_a_later_post_joins_the_announced_group() -> None:
    group = [_sk(1, 10, 0, group=77), _sk(2, 20, 5, group=77), _sk(3, 30, 9, group=77)]
    decision = decide(_sk(4, 40, 60, BASE + " #d"), group, RULES)
    assert decision.join == 77
    assert decision.members == ()
