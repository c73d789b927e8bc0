"""The hardened HTTP client (SSRF guard, byte caps, deadlines, per-host limits)."""

from bot.net.client import HttpClient, Response
from bot.net.guard import GuardedResolver, check_url, refusal

__all__ = ["GuardedResolver", "HttpClient", "Response", "check_url", "refusal"]
