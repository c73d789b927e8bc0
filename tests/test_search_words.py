"""Word forms: a query word finds the forms of its word and nothing more (ru, kk, en).

Tables, not examples picked to pass: each row is a query word and text words it must
find (or must not). Matching is what both databases do: the word's terms meet the text
word's terms (``bot.words.word_terms``), so these tables hold for SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest

from bot.words import (
    INDEX_CHARS,
    MAX_WORD,
    index_text,
    kazakh_stem,
    normalise,
    text_terms,
    tokens,
    word_terms,
)


def _finds(query: str, word: str) -> bool:
    return bool(word_terms(normalise(query)) & word_terms(normalise(word)))


FINDS: list[tuple[str, str]] = [
    # Russian cases of nouns, names and places
    ("референдум", "референдума референдуме референдуму референдумом референдумы референдумов"),
    ("тариф", "тарифы тарифов тарифам тарифами тарифах тарифе"),
    ("газ", "газа газу газом газе газы газов"),
    ("цены", "цена цену ценой цен ценам ценами ценах"),
    ("Казахстан", "Казахстана Казахстану Казахстаном Казахстане"),
    ("Астана", "Астаны Астане Астану Астаной"),
    ("кредит", "кредита кредиту кредитом кредите кредиты кредитов"),
    ("аким", "акима акиму акимом акиме акимы акимов"),
    ("Аймагамбетов", "Аймагамбетова Аймагамбетову Аймагамбетовым Аймагамбетове"),
    ("Токаев", "Токаева Токаеву Токаевым Токаеве"),
    ("музей", "музея музею музеем музее музеи музеев"),
    ("Китай", "Китая Китаю Китаем Китае"),
    ("канал", "канала каналу каналом канале каналы"),
    ("бюджет", "бюджета бюджету бюджетом бюджете бюджеты"),
    ("школа", "школы школе школу школой школ школам"),
    ("пенсия", "пенсии пенсию пенсией пенсий"),
    ("новый", "новая новое новые нового новому новым новых"),
    ("ёлка", "елки Ёлке ЕЛКУ"),
    # Kazakh endings on Russian loans and on Kazakh words
    ("референдум", "референдумға референдумда референдумның референдумдағы референдумнан"),
    ("тариф", "тарифтер тарифтерді тарифі тарифін тарифтің тарифке тарифтеріміз"),
    ("газ", "газға газда газды газдың газбен газдан"),
    ("бюджет", "бюджетте бюджетке бюджеттің бюджеттен"),
    ("Қазақстан", "Қазақстанда Қазақстанның Қазақстанға Қазақстаннан"),
    ("Астана", "Астанада Астанаға Астананың Астанадан"),
    ("сайлау", "сайлауда сайлауға сайлаудың сайлаудан сайлауы"),
    ("мектеп", "мектепте мектепке мектептер мектептің мектебі"),
    ("қала", "қалада қалаға қалалар қаланың"),
    ("ауыл", "ауылда ауылға ауылдар ауылдың ауылы ауылына"),
    ("министр", "министрлер министрдің министрге министрі"),
    # a Kazakh form as the query finds the other forms too
    ("тарифтер", "тариф тарифы тарифов"),
    ("сайлауда", "сайлау сайлауға"),
    ("газета", "газетада газеты газете"),
    # English
    ("tariff", "tariffs Tariff"),
    ("referendum", "referendums"),
    ("price", "prices priced"),
    # spelling that is the same word: accents, case, invisible characters
    ("тариф", "та\u0301рифы ТАРИФЫ тари\u00adфы тари\u200bфы"),
    ("йод", "и\u0306од"),  # й written as и + combining breve
]

MISSES: list[tuple[str, str]] = [
    ("газ", "газета газеты газете газон газель газовый газопровод Газпром"),
    ("тариф", "тарифицировать"),
    ("цены", "ценности"),
    ("школа", "школьник школьный"),
    ("казах", "Казахстан Казахстана"),
    ("вой", "война войны"),
    ("часто", "частота частоты"),
    ("рабо", "работа работы"),
    ("доллар", "дол"),
    ("компьютер", "компью"),
    ("мастер", "мас"),
    ("сан", "санкция"),
    ("кит", "Китай"),  # a whale is not China
    ("tariff", "tar"),
    ("gas", "gazette"),
]


def _rows(table: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(query, word) for query, words in table for word in words.split()]


@pytest.mark.parametrize(("query", "word"), _rows(FINDS))
def test_a_word_finds_its_forms(query: str, word: str) -> None:
    assert _finds(query, word), (word_terms(normalise(query)), word_terms(normalise(word)))


@pytest.mark.parametrize(("query", "word"), _rows(MISSES))
def test_a_word_finds_nothing_more(query: str, word: str) -> None:
    assert not _finds(query, word), (word_terms(normalise(query)), word_terms(normalise(word)))


KAZAKH_STEMS = [
    ("тарифтерді", "тариф"),
    ("референдумдағы", "референдум"),
    ("Қазақстанда", "қазақстан"),  # "-стан" is not an ablative ending
    ("ауылына", "ауыл"),
    # Russian words keep their endings: the letter before does not take that ending,
    # or the vowels are not in harmony
    ("газета", "газета"),
    ("работа", "работа"),
    ("цены", "цены"),
    ("доллар", "доллар"),
    ("компьютер", "компьютер"),
    ("мастер", "мастер"),
    ("война", "война"),
    ("среда", "среда"),
]


@pytest.mark.parametrize(("word", "stem"), KAZAKH_STEMS)
def test_kazakh_endings_come_off_only_where_grammar_puts_them(word: str, stem: str) -> None:
    assert kazakh_stem(normalise(word)) == stem


def test_tokens_keep_positions_in_the_original_text() -> None:
    text = "Цены на газ — «тарифы», don’t stop: 5G и й\u0306од."
    found = tokens(text)
    assert [text[t.start : t.end] for t in found] == [
        "Цены", "на", "газ", "тарифы", "don’t", "stop", "5G", "и", "й\u0306од",
    ]  # fmt: skip
    assert [t.word for t in found][4] == "don't"


def test_index_text_holds_each_term_and_adjacent_pair_once() -> None:
    stored = index_text("Цены на газ. Цены на газ!").split()
    assert len(stored) == len(set(stored))
    assert {"цен", "на", "газ", "цен_на", "на_газ", "газ_цен"} <= set(stored)
    assert all(" " not in term and term for term in stored)


def test_a_word_too_long_has_no_terms_and_breaks_no_pair_rule() -> None:
    long_word = "а" * (MAX_WORD + 1)
    assert word_terms(long_word) == frozenset()
    stored = index_text(f"газ {long_word} цены").split()
    assert not any(long_word[:10] in term for term in stored)
    assert "газ_цен" not in stored  # the words were not adjacent


def test_only_the_beginning_of_a_huge_text_is_indexed() -> None:
    words = INDEX_CHARS // 6 + 1
    text = "тариф " * words + "референдум"
    assert "референдум" not in index_text(text).split()
    assert "референдум" in index_text(text[6:]).split()
    assert len(text_terms(text)) == words + 1  # text_terms still sees every word
