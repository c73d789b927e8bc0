"""What is detected: the rules of ``bot.detect`` and the languages ``bot.langs`` tells apart."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, field_validator

from bot.config.values import Duration, Section

#: The ISO 639-1 codes lingua 2.1 knows (``lingua.Language.all()``), so that reading the
#: config does not load lingua; tests/test_startup.py compares them with lingua's.
# One line of codes per row, not one per line: formatting would spread 75 lines.
# fmt: off
LINGUA_CODES = frozenset((
    "af", "ar", "az", "be", "bg", "bn", "bs", "ca", "cs", "cy", "da", "de", "el", "en", "eo",
    "es", "et", "eu", "fa", "fi", "fr", "ga", "gu", "he", "hi", "hr", "hu", "hy", "id", "is",
    "it", "ja", "ka", "kk", "ko", "la", "lg", "lt", "lv", "mi", "mk", "mn", "mr", "ms", "nb",
    "nl", "nn", "pa", "pl", "pt", "ro", "ru", "sk", "sl", "sn", "so", "sq", "sr", "st", "sv",
    "sw", "ta", "te", "th", "tl", "tn", "tr", "ts", "uk", "ur", "vi", "xh", "yo", "zh", "zu",
))
# fmt: on


class DetectSettings(Section):
    silent_after: Duration = timedelta(days=7)
    follower_change_percent: float = Field(default=5.0, ge=0)
    follower_change_min: int = Field(default=100, ge=0)
    follower_milestones: list[int] = Field(
        default_factory=lambda: [1000, 5000, 10000, 25000, 50000, 100000, 500000, 1000000]
    )
    confirm_polls: int = Field(default=2, ge=1)
    # Unusual follower changes (bot/detect/unusual.py): daily growth kept per account,
    # the fewest daily figures to judge by, the ratio that marks a jump, and the floor
    # of the usual daily change (followers, and percent of the count).
    unusual_window: Duration = timedelta(days=60)
    unusual_min_days: int = Field(default=14, ge=1, le=365)
    unusual_ratio: float = Field(default=5.0, gt=1.0)
    unusual_floor: int = Field(default=10, ge=1)
    unusual_floor_percent: float = Field(default=0.05, ge=0)

    @field_validator("unusual_window")
    @classmethod
    def _window_days(cls, value: timedelta) -> timedelta:
        if not timedelta(days=7) <= value <= timedelta(days=365):
            raise ValueError("must be between 7d and 365d (30d to 90d is the usual choice)")
        return value

    #: Same text from several officials (coordinated_posts): how many officials, within
    #: which window, posts of at least how many words, at which estimated Jaccard similarity.
    same_text_officials: int = Field(default=3, ge=2)
    same_text_window: Duration = timedelta(hours=2)
    same_text_min_words: int = Field(default=8, ge=1)
    same_text_similarity: float = Field(default=0.8, ge=0.5, le=1.0)


class LanguagesSettings(Section):
    """Post languages (``bot.langs``): identified once per stored version, in the background."""

    enabled: bool = True
    #: ISO 639-1 codes lingua chooses among; few keep it fast and accurate (kk, ru, en, uk).
    detect: list[str] = Field(default_factory=lambda: ["kk", "ru", "en", "uk"], min_length=1)
    #: Versions identified per batch (one read, one executemany write).
    batch: int = Field(default=500, ge=1, le=10000)
    #: How often ``govwatch run`` looks for versions still without a language.
    every: Duration = timedelta(seconds=30)

    @field_validator("detect")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        codes = [c.strip().lower() for c in value]
        for code in codes:
            if code not in LINGUA_CODES:
                raise ValueError(f"{code!r} is not a language lingua knows (ISO 639-1)")
        return codes
