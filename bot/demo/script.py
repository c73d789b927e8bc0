"""What happens in the demo world: who has which account, how lively each is, and the plot.

All times here are WORLD seconds: the plot's pace, which the world runs ``speed`` times
faster than life. Everything the app shows is real time (post dates, alerts, /silent),
and so is the silence threshold: the one /silent uses by default (see ``bot.demo.world``).
Numbers follow the 2021 newspaper analysis (Facebook followers: Aimagambetov ~35k, Musin
~26k, Sultanov ~7k, Balaeva, Tsoy, Turgumbayev and Mamin 4-6k; the others dormant or
without a page). Post texts are invented, in the style of ministry announcements.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.domain import Platform

HOUR = 3600.0
MINUTE = 60.0
#: An active account never goes longer than this without a post.
MAX_QUIET = 3 * HOUR
#: How long before the (real) silence threshold the quiet minister's last post is, at
#: the start: the world announces it this long after it begins.
SILENCE_LEAD = 40 * MINUTE
#: The newest post of an active account at the start is this old (a range).
FIRST_POST_AGE = (9 * MINUTE, 45 * MINUTE)


@dataclass(frozen=True, slots=True)
class AccountPlan:
    """How one account behaves: its audience, growth and posting rhythm."""

    title: str
    followers: int
    growth_per_hour: float = 0.0
    #: Mean world seconds between posts; None for a dormant account.
    post_every: float | None = None
    #: Age of the newest post at the start for dormant accounts, in real days.
    dormant_days: float = 120.0
    topic: str = "government"
    #: Stops posting from the start (its last post nears the real silence threshold).
    goes_silent: bool = False


@dataclass(frozen=True, slots=True)
class Happening:
    """One scripted turn of the plot at a world time."""

    at: float
    kind: Literal["jump", "delete", "edit", "fail", "recover"]
    platform: Platform
    handle: str
    amount: int = 0


FB = Platform.FACEBOOK
TG = Platform.TELEGRAM
BS = Platform.BLUESKY
RSS = Platform.RSS

#: Every account the world serves, keyed by the roster's (platform, handle).
PLANS: dict[tuple[Platform, str], AccountPlan] = {
    # The seven active members, in the newspaper's order.
    (FB, "100021000000006"): AccountPlan(
        "Асхат Аймагамбетов", 35_140, 30, 70 * MINUTE, topic="education"
    ),
    (TG, "aimagambetov_edu"): AccountPlan(
        "Асхат Аймагамбетов | Білім", 61_877, 45, 55 * MINUTE, topic="education"
    ),
    (RSS, "https://demo.invalid/rss/edu-press.xml"): AccountPlan(
        "Министерство образования и науки — пресс-релизы", 0, 0, 80 * MINUTE, topic="education"
    ),
    (FB, "100021000000007"): AccountPlan("Bagdat Musin", 26_030, 22, 75 * MINUTE, topic="digital"),
    (TG, "musin_digital"): AccountPlan(
        "Багдат Мусин | Цифровизация", 24_931, 40, 50 * MINUTE, topic="digital"
    ),
    (BS, "bagdatmusin.bsky.social"): AccountPlan(
        "Bagdat Musin", 3_412, 6, 65 * MINUTE, topic="digital"
    ),
    (FB, "100021000000008"): AccountPlan("Бахыт Султанов", 7_020, 8, 80 * MINUTE, topic="trade"),
    (BS, "sultanov-trade.bsky.social"): AccountPlan(
        "Bakhyt Sultanov", 1_186, 3, 70 * MINUTE, topic="trade"
    ),
    (FB, "100021000000009"): AccountPlan(
        "Аида Балаева", 4_985, 25, 75 * MINUTE, topic="information"
    ),
    (TG, "balaeva_mion"): AccountPlan(
        "Аида Балаева | МИОР", 12_408, 10, 60 * MINUTE, topic="information"
    ),
    (FB, "100021000000010"): AccountPlan("Алексей Цой", 5_610, 9, 70 * MINUTE, topic="health"),
    (TG, "tsoy_health"): AccountPlan(
        "Алексей Цой | Минздрав", 88_215, 60, 50 * MINUTE, topic="health"
    ),
    (RSS, "https://demo.invalid/rss/health-press.xml"): AccountPlan(
        "Министерство здравоохранения — пресс-релизы", 0, 0, 80 * MINUTE, topic="health"
    ),
    (FB, "100021000000011"): AccountPlan(
        "Ерлан Тургумбаев", 4_380, 4, 90 * MINUTE, topic="interior", goes_silent=True
    ),
    # The quiet minister's press feed stopped before he did: /silent counts an official
    # silent only when every account is, so his silence is the one the alert announces.
    (RSS, "https://demo.invalid/rss/interior-press.xml"): AccountPlan(
        "Министерство внутренних дел — пресс-релизы", 0, topic="interior", dormant_days=9
    ),
    (FB, "100021000000001"): AccountPlan("Аскар Мамин", 5_240, 7, 85 * MINUTE, topic="government"),
    (TG, "mamin_primeminister"): AccountPlan(
        "Премьер-Министр Казахстана", 141_900, 80, 60 * MINUTE, topic="government"
    ),
    # Posts rarely, but did this week: with the quiet minister past the threshold, the
    # week's Facebook count stays the newspaper's 7 of 24.
    (FB, "100021000000020"): AccountPlan("Актоты Раимкулова", 3_070, dormant_days=2.5),
    # Dormant pages: they exist, but nothing was posted for months.
    (FB, "100021000000002"): AccountPlan("Алихан Смаилов", 2_140, dormant_days=210),
    (FB, "100021000000004"): AccountPlan("Роман Скляр", 1_320, dormant_days=95),
    (FB, "100021000000012"): AccountPlan("Ерулан Жамаубаев", 880, dormant_days=330),
    (FB, "100021000000015"): AccountPlan("Марат Бекетаев", 1_050, dormant_days=61),
    (FB, "100021000000017"): AccountPlan("Сапархан Омаров", 2_610, dormant_days=140),
    (FB, "100021000000019"): AccountPlan("Серик Шапкенов", 640, dormant_days=400),
    (FB, "100021000000024"): AccountPlan("Аппарат Правительства РК", 1_930, dormant_days=75),
}

#: The plot. At speed 60 (the default) one world minute passes per real second, so the
#: first turns land within the first minute of the demo, after the baseline poll.
PLOT: tuple[Happening, ...] = (
    Happening(12 * MINUTE, "jump", TG, "tsoy_health", 5_300),
    Happening(18 * MINUTE, "delete", TG, "musin_digital"),
    Happening(24 * MINUTE, "jump", FB, "100021000000006", 2_350),
    Happening(28 * MINUTE, "fail", TG, "balaeva_mion"),
    Happening(34 * MINUTE, "edit", TG, "aimagambetov_edu"),
    Happening(90 * MINUTE, "recover", TG, "balaeva_mion"),
)

#: Invented post texts by topic; the world cycles through them.
TEXTS: dict[str, tuple[str, ...]] = {
    "education": (
        "С 1 сентября в 140 школах страны откроются новые кабинеты робототехники.",
        "Провели совещание с ректорами вузов: гранты на педагогические специальности увеличены.",
        "Жаңа оқу жылына дайындық туралы кеңес өттi. Мектептердiң 96 пайызы дайын.",
        "Подписан приказ о повышении заработной платы педагогов дошкольных организаций.",
        "Встретился с победителями республиканской олимпиады по математике. Гордимся!",
        "ЕНТ-2021: результаты будут опубликованы в личных кабинетах участников.",
    ),
    "digital": (
        "Запустили новую версию eGov mobile: 30 услуг теперь доступны без посещения ЦОНа.",
        "Astana Hub принял 120 новых резидентов за квартал.",
        "До конца года оптоволокно придёт ещё в 1 200 сёл.",
        "Обсудили с операторами связи покрытие трасс республиканского значения 4G.",
        "Цифрлық құжаттар сервисi арқылы 5 миллионнан астам құжат ұсынылды.",
        "Kazakhstan's satellite KazSat-2R: design review completed on schedule.",
    ),
    "trade": (
        "Экспорт несырьевых товаров за 9 месяцев вырос на 14%.",
        "Провёл переговоры с коллегами из ЕАЭС о снятии барьеров на рынке услуг.",
        "Цены на социально значимые продукты под ежедневным контролем акиматов.",
        "Trade mission to Uzbekistan: 23 agreements worth $480 million signed.",
        "Сауда орталықтарында жәрмеңкелер өтедi: бағалар нарықтан 15% төмен.",
    ),
    "information": (
        "Государственная премия в области журналистики: приём заявок до 1 декабря.",
        "Встреча с представителями НПО: грантовое финансирование на 2022 год.",
        "Жастар саясаты жөнiндегi кеңес отырысы өттi.",
        "Запущен портал открытых НПА: каждый может оставить комментарий к проекту.",
        "Провели брифинг для региональных СМИ о доступе к информации.",
    ),
    "health": (
        "Вакцинация: первым компонентом привито более 8 млн человек.",
        "В регионы направлено 400 единиц медицинского оборудования.",
        "Открыли новый кардиоцентр в Туркестане.",
        "Медициналық сақтандыру жүйесi: жаңа қызметтер тiзiмi бекiтiлдi.",
        "Санитарные требования к массовым мероприятиям обновлены.",
        "Врачи сельских амбулаторий получат доплату в размере 50% к окладу.",
    ),
    "interior": (
        "Итоги оперативно-профилактического мероприятия «Дорога»: число ДТП снизилось на 11%.",
        "Наградил сотрудников, отличившихся при ликвидации паводка.",
        "Полиция Алматы задержала группу интернет-мошенников.",
        "Жол-көлiк оқиғаларының саны 11 пайызға азайды.",
        "Сервис «Мобильный полицейский» доступен в приложении eGov.",
    ),
    "government": (
        "На заседании Правительства рассмотрены итоги социально-экономического развития.",
        "Поручил ускорить строительство жилья по программе «Нұрлы жер».",
        "Үкiмет отырысында жылу маусымына дайындық қаралды.",
        "Provided instructions on stabilising food prices ahead of winter.",
        "Рабочая поездка в Атыраускую область: осмотрел стройку газохимического комплекса.",
    ),
}

#: What an edit changes a post into (the original text gets a correction appended).
EDIT_SUFFIX = " (Уточнение: данные обновлены по итогам сверки.)"
