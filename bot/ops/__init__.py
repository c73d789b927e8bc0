"""Running govwatch as a service: ``/metrics`` for Prometheus and ``/healthz`` for containers.

``server.OpsServer`` serves both on ``[ops] listen:port``; ``collect`` turns the store's
backlog queries into gauges at scrape time; ``health`` decides what ``/healthz`` says.
The counters themselves live in the leaf ``bot.metrics``.
"""
