"""The button map, in one place: which callback data a button carries, which command it runs.

Buttons carry short opaque strings (Telegram allows 64 bytes): ``mute:12``, ``unmute:12``,
``chart:12``, ``unsub:o:12`` (an official), ``unsub:s:34`` (a subscription row),
``ev:56`` (the evidence of the post an alert event is about) and ``cmd:/official #12``
(any command). Adapters pass them back untouched to
``CommandService.handle_action``; anything unknown shows /help. A leaf module, so the
alert renderer (bot.notify) and the command layer build buttons from the same map.
"""

from __future__ import annotations


def action_command(action: str) -> str:
    """The command text a button's callback data runs."""
    verb, _, rest = action.partition(":")
    match verb:
        case "cmd":
            return rest
        case "mute" | "unmute" | "chart":
            return f"/{verb} #{rest}"
        case "ev":
            return f"/evidence ={rest}"
        case "unsub":
            kind, _, ident = rest.partition(":")
            return f"/unsubscribe {'#' if kind == 'o' else '='}{ident}"
    return "/help"


def command_action(text: str) -> str:
    """A button that runs the command ``text``."""
    return f"cmd:{text}"


def mute_action(official_id: int) -> str:
    """A button that mutes an official in this chat."""
    return f"mute:{official_id}"


def unmute_action(official_id: int) -> str:
    """A button that unmutes an official in this chat."""
    return f"unmute:{official_id}"


def unsubscribe_action(subscription_id: int) -> str:
    """A button that drops one of this chat's subscriptions."""
    return f"unsub:s:{subscription_id}"


def chart_action(official_id: int) -> str:
    """A button that draws an official's follower chart."""
    return f"chart:{official_id}"


def unfollow_action(official_id: int) -> str:
    """A button that drops this chat's subscription to an official."""
    return f"unsub:o:{official_id}"


def evidence_action(event_id: int) -> str:
    """A button that sends the evidence file of the post an alert (event) is about."""
    return f"ev:{event_id}"
