"""Reports journalists publish: leaderboards, the cabinet report, cards, silence, charts.

Query functions return plain dataclasses (``leaderboard.top``, ``cabinet.cabinet_report``,
``card.official_card``, ``silence.silent_officials``); ``bot.commands.reports`` lays
them out as replies; ``export.main`` serves ``govwatch export --what ...``. Digests are
composed and queued by ``bot.notify.digest`` (they render events, so they live there).
``states`` says what every report may state about an account: read, could not be read
(with the reason in words), absent, or not polled yet.
"""
