"""Change detection: pure rules turning (previous state, observation) into events.

``detect(prev, obs, info=AccountInfo, rules=Rules) -> Detection`` is the entry point.

Every payload has ``platform``, ``handle``, ``url`` (the post URL for post events, else
the profile URL) and ``profile_url``. The official's name is looked up by the renderer
through ``events.official_id``. Times are ISO-8601 UTC strings. Per kind:

=====================  ===================================================================
kind                   extra payload keys
=====================  ===================================================================
new_post               post_id, text (trimmed to ~1000 chars), published_at, is_repost,
                       is_reply, forwarded_from (reposts never make post events)
post_edited            same keys as new_post; ``text`` is the new text, previous_seen_at;
                       the store adds old_text (the previous version), text and version
                       (the new version's number), both texts trimmed to 4000 chars
post_deleted           post_id, published_at, misses (polls the post was missing from),
                       last_seen_at (last poll that showed it), first_missed_at (first
                       poll that missed it), views (at last sight); the store adds text
                       (the last version, trimmed to 4000), url (the dead post link) and
                       versions (how many were stored)
followers_up/_down     before (value at the last alert or first sight), after, delta
                       (signed), percent (signed, 2 decimals; None when before is 0),
                       exact (both counts exact), margin (rounding error of the two
                       counts together), since (ISO time of ``before``); judged
                       against the account's own daily growth (``unusual.py``):
                       unusual (bool), ratio (the recent change over the usual daily
                       change, 1 decimal; None while the baseline is too young),
                       usual_daily (followers/day used, None when young),
                       baseline_days (daily figures behind it), recent_delta (signed
                       change since recent_since, the day's anchor read)
followers_milestone    milestone, followers, exact
went_silent            last_post_at (None if the account never posted), silent_days
                       (so far), silent_after_days (the threshold used)
back_from_silence      silent_since, silent_days, returned_at (the new post's time)
profile_changed        fields (sorted names), changes: {field: {before, after}} for
                       display_name, description, avatar_url
account_missing        reason, last_ok_at, absent_polls
account_restored       missing_since (last ok before it went missing)
source_degraded        reason, failures (unknown results in a row), last_ok_at
source_recovered       degraded_since, status (``ok`` or ``absent``)
visibility_changed     before, after (``public``, ``preview_off``, ``private``, ``locked``,
                       ``logged_in_only``: bot.domain.Visibility), posts_hidden (govwatch
                       cannot read the posts now), before_since (when ``before`` was
                       first seen), polls (answers in a row that showed ``after``)
coordinated_posts      several officials at once, so no account or official of its own
                       (``bot/store/sameness.py``): text, officials, posts (official_id,
                       name, names, account_id, platform, handle, post_id, url,
                       profile_url, published_at), first_at, last_at, window_s,
                       threshold, joined (posts added after the alert)
=====================  ===================================================================

Dedup keys are ``"<account_id>:<kind>:<detail>"`` where the detail comes from the change
itself (post id, post id + text hash, previous alert time + values, silence reference
time...), so processing the same change twice yields the same key.
"""

from bot.detect.engine import detect
from bot.detect.state import AccountInfo, Detection, Rules, State

__all__ = ["AccountInfo", "Detection", "Rules", "State", "detect"]
