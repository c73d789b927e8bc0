"""The public read-only web site: an adapter over the reports, like the chat adapters.

``server.py`` serves it (routes, headers, rate limit, conditional answers); ``pages.py``
turns a request into a rendered page from the reports; ``views.py`` the figures into the
words of the page's language; ``feeds.py`` Atom; ``svg.py`` charts; templates/ Jinja2
with autoescape. Nothing here writes to the database.
"""
