"""Run a SPARQL query (``govwatch import --wikidata-query``) through the hardened client.

The query goes as a GET with ``format=json`` and ``Accept: application/sparql-results+json``,
under every guard of :class:`bot.net.client.HttpClient` (private addresses refused unless
``[http] allow_private_networks``, size cap, deadline), with ``[wikidata] user_agent``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from bot.config.settings import HttpSettings, WikidataSettings
from bot.errors import FetchError, SparqlError
from bot.net.client import HttpClient

ACCEPT = "application/sparql-results+json"


def query_url(endpoint: str, query: str) -> str:
    """The GET URL of ``query`` at ``endpoint``."""
    joiner = "&" if "?" in endpoint else "?"
    return endpoint + joiner + urlencode({"query": query, "format": "json"})


async def run_query(query: str, wikidata: WikidataSettings, http: HttpSettings) -> bytes:
    """The endpoint's JSON answer to ``query``; SparqlError when there is none."""
    settings = http.model_copy(update={"user_agent": wikidata.user_agent,
                                       "timeout": wikidata.timeout})  # fmt: skip
    try:
        async with HttpClient(settings) as client:
            response = await client.get(
                query_url(wikidata.endpoint, query), headers={"Accept": ACCEPT}
            )
    except FetchError as exc:
        words = f"{exc.reason} ({exc.detail})" if exc.detail else exc.reason
        raise SparqlError(f"the SPARQL endpoint could not be read: {words}") from None
    if response.status != 200:
        # The endpoint explains a bad query in the body's first line (a Java exception).
        first = response.text().strip().splitlines()[:1]
        hint = f": {first[0][:300]}" if first else ""
        raise SparqlError(f"the SPARQL endpoint answered HTTP {response.status}{hint}",
                          status=response.status)  # fmt: skip
    return response.body
