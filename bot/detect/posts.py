"""New, edited and deleted posts, judged against the window of posts the page shows.

Reposts and boosts are not the official's own posts: they never make post events (an
un-repost is not a deletion) and are kept out of the window; they are stored once, as
activity dated by the repost, so silence and reports count them alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.detect.events import make_event
from bot.detect.state import (
    AccountInfo,
    Detection,
    Rules,
    State,
    _spaced_hash,
    iso,
    parse_iso,
    text_hash,
    trim,
)
from bot.domain import EventKind, Observation, PostSeen


def _floor(posts: tuple[PostSeen, ...]) -> datetime | None:
    # Pinned posts may be old; they do not mark the bottom of the window.
    dates = [p.published_at for p in posts if p.published_at is not None and not p.pinned]
    return min(dates) if dates else None


def _prev_floor(prev: State) -> datetime | None:
    window: dict[str, list[Any]] = prev.extra.get("window") or {}
    dates = [parse_iso(v[0]) for v in window.values() if v[0] is not None and not v[2]]
    found = [d for d in dates if d is not None]
    return min(found) if found else prev.last_post_at


def _entry(post: PostSeen, published: datetime | None, hashed: str) -> list[Any]:
    return [iso(published), hashed, post.pinned, post.views]


def _window_at(prev: State) -> str | None:
    """When the previous window was last seen (older states: the last good fetch)."""
    return prev.extra.get("window_at") or iso(prev.last_ok_at)


def _dates(
    prev: State | None, obs: Observation, posts: tuple[PostSeen, ...]
) -> dict[str, datetime | None]:
    """Each post's date, never later than when we first saw it (clocks and time zones lie)."""
    window: dict[str, list[Any]] = (prev.extra.get("window") if prev else None) or {}
    found: dict[str, datetime | None] = {}
    for p in posts:
        known = window.get(p.id)
        if known is not None and known[0] is not None and p.published_at is not None:
            found[p.id] = min(p.published_at, parse_iso(known[0]) or p.published_at)
        elif p.published_at is not None:
            found[p.id] = min(p.published_at, obs.fetched_at)
        else:
            found[p.id] = None
    return found


def _post_payload(post: PostSeen) -> dict[str, Any]:
    return {
        "post_id": post.id,
        "text": trim(post.text),
        "published_at": iso(post.published_at),
        "is_repost": post.is_repost,
        "is_reply": post.is_reply,
        "forwarded_from": post.forwarded_from,
    }


def _is_new(post: PostSeen, floor: datetime | None) -> bool:
    # An unseen post older than the previous window is an old post seen for the first
    # time (the window grew, or a post was unpinned), not a new one.
    return post.published_at is None or floor is None or post.published_at > floor


def _seen_posts(
    prev: State, obs: Observation, posts: tuple[PostSeen, ...], hashes: list[str],
    out: Detection, info: AccountInfo,
) -> None:  # fmt: skip
    window: dict[str, list[Any]] | None = prev.extra.get("window")
    missing: dict[str, list[Any]] = prev.extra.get("missing_posts") or {}
    floor = _prev_floor(prev)
    for post, hashed in zip(posts, hashes, strict=True):
        old = window.get(post.id) if window is not None else None
        if old is None:
            out.posts.append(post)
            if window is not None and post.id not in missing and _is_new(post, floor):
                out.events.append(
                    make_event(
                        info,
                        EventKind.NEW_POST,
                        occurred_at=post.published_at or obs.fetched_at,
                        key=post.id,
                        url=post.url,
                        **_post_payload(post),
                    )
                )
        elif old[1] != hashed and old[1] != _spaced_hash(post.text):  # see same_text
            out.posts.append(post)
            out.edited.add(post.id)
            seen = _window_at(prev)
            out.sightings[post.id] = (parse_iso(seen), old[3] if len(old) > 3 else None)
            out.events.append(
                make_event(
                    info,
                    EventKind.POST_EDITED,
                    occurred_at=obs.fetched_at,
                    key=f"{post.id}:{hashed}",
                    url=post.url,
                    previous_seen_at=seen,
                    **_post_payload(post),
                )
            )


def _missing_entry(entry: list[Any], seen: str | None, missed: str | None) -> list[Any]:
    """A window entry as a missing one: [published, hash, pinned, misses, last seen,
    first missed, views] (older states lack the last three)."""
    views = entry[3] if len(entry) > 3 else None
    return [*entry[:3], 0, seen, missed, views]


def _deleted_posts(
    prev: State, obs: Observation, posts: tuple[PostSeen, ...], out: Detection, info: AccountInfo,
    rules: Rules,
) -> dict[str, list[Any]]:  # fmt: skip
    """Count misses of posts that should be on the page; returns the still-pending ones."""
    shown = {p.id for p in obs.posts}  # a post now shown as a repost is not gone
    floor = _floor(posts)
    seen, missed = _window_at(prev), iso(obs.fetched_at)
    candidates: dict[str, list[Any]] = {}
    # the posts shown now are never candidates: the usual window is left at once
    for post_id, entry in (prev.extra.get("window") or {}).items():
        if post_id not in shown:
            candidates[post_id] = _missing_entry(entry, seen, missed)
    for post_id, entry in (prev.extra.get("missing_posts") or {}).items():
        if post_id not in shown:
            candidates[post_id] = [*entry, *[None] * (7 - len(entry))]
    pending: dict[str, list[Any]] = {}
    for post_id, entry in candidates.items():
        if entry[0] is None:
            continue
        published_at = parse_iso(entry[0])
        inside = obs.no_posts or (
            floor is not None and published_at is not None and published_at > floor
        )
        if not inside:
            continue  # it scrolled out of the window: not a deletion
        entry[3] += 1
        _count_miss(post_id, entry, pending, out, info, rules, obs)
    return pending


def _count_miss(
    post_id: str,
    entry: list[Any],
    pending: dict[str, list[Any]],
    out: Detection,
    info: AccountInfo,
    rules: Rules,
    obs: Observation,
) -> None:
    if entry[3] < rules.confirm_polls:
        pending[post_id] = entry
        return
    out.deleted.append(post_id)
    out.sightings[post_id] = (parse_iso(entry[4]), entry[6])
    out.events.append(
        make_event(
            info,
            EventKind.POST_DELETED,
            occurred_at=obs.fetched_at,
            key=post_id,
            post_id=post_id,
            published_at=entry[0],
            misses=entry[3],
            last_seen_at=entry[4],
            first_missed_at=entry[5],
            views=entry[6],
        )
    )


def detect_posts(
    prev: State | None, obs: Observation, out: Detection, info: AccountInfo, rules: Rules
) -> None:
    """Add post events and post writes for an ``ok`` observation to ``out``."""
    new = out.state
    if obs.posts_hidden:
        return  # a hidden account's posts are out of sight, not deleted: judge nothing
    if obs.not_modified:
        if prev is not None:
            _not_modified(prev, obs, out, info, rules)
        return
    if not obs.posts and not obs.no_posts:
        return  # the page showed no posts we could read: judge nothing
    own = tuple(p for p in obs.posts if not p.is_repost)
    effective = _dates(prev, obs, obs.posts)
    dates = [d for d in effective.values() if d is not None]
    if dates or obs.no_posts:
        new.extra["posts_visible"] = True  # silence can be judged for this account
    if dates and (new.last_post_at is None or max(dates) > new.last_post_at):
        new.last_post_at = max(dates)
    _reposts(prev, obs, out)
    hashes = [text_hash(p.text) for p in own]  # once per post: the window keeps them too
    out.hashes = {p.id: (p.text, hashed) for p, hashed in zip(own, hashes, strict=True)}
    if prev is None or prev.extra.get("window") is None:
        out.posts.extend(own)
    else:
        _seen_posts(prev, obs, own, hashes, out, info)
        new.extra["missing_posts"] = _deleted_posts(prev, obs, own, out, info, rules)
        if any(e.kind is EventKind.NEW_POST and not e.payload["published_at"] for e in out.events):
            # an undated new post: we know it appeared since the last look
            new.last_post_at = obs.fetched_at
    new.extra["window"] = {
        p.id: _entry(p, effective[p.id], hashed) for p, hashed in zip(own, hashes, strict=True)
    }
    new.extra["window_at"] = iso(obs.fetched_at)


def _reposts(prev: State | None, obs: Observation, out: Detection) -> None:
    """Store each repost once, as activity; the page's reposts are remembered by id."""
    known = set((prev.extra.get("reposts") if prev else None) or ())
    shown = [p for p in obs.posts if p.is_repost]
    out.posts.extend(p for p in shown if p.id not in known)
    out.state.extra["reposts"] = [p.id for p in shown]


def _not_modified(
    prev: State, obs: Observation, out: Detection, info: AccountInfo, rules: Rules
) -> None:
    # An unchanged page still lacks the posts it lacked last time, and still shows the rest.
    pending: dict[str, list[Any]] = {}
    for post_id, entry in (prev.extra.get("missing_posts") or {}).items():
        entry = [*entry, *[None] * (7 - len(entry))]
        entry[3] += 1
        _count_miss(post_id, entry, pending, out, info, rules, obs)
    out.state.extra["missing_posts"] = pending
    if prev.extra.get("window") is not None:
        out.state.extra["window_at"] = iso(obs.fetched_at)
