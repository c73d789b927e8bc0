"""docs/operations.md: the Prometheus config and alert rules parse, and name real metrics.

Every ``govwatch_*`` series an alert expression uses must be one a live ops server
exposes (so a renamed metric breaks this test, not an operator's alerting), every
metric in the exposition is documented in the table, and every rule has what
Alertmanager needs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

from bot.ops.server import OpsServer
from bot.store.engine import Database
from tests.test_ops import free_port, get, ops_settings

DOC = Path(__file__).resolve().parent.parent / "docs" / "operations.md"
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def _yaml_blocks() -> list[Any]:
    return [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S)]


async def _exposed(db: Database) -> tuple[set[str], set[str]]:
    """(family names, sample names) a live ops server exposes."""
    server = OpsServer(
        ops_settings(db.url, free_port()), db=db, platforms=["telegram"], backends=["telegram"],
        multiprocess_dir=None,
    )  # fmt: skip
    await server.start()
    try:
        status, body = await get(server.settings.port, "/metrics")
    finally:
        await server.stop()
    assert status == 200
    families, samples = set(), set()
    for family in text_string_to_metric_families(body):
        if family.name.startswith("govwatch_"):
            families.add(family.name)
            samples.update(family.name + s for s in SUFFIXES[family.type])
    return families, samples


async def test_the_documented_rules_name_exposed_metrics(database: Database) -> None:
    blocks = _yaml_blocks()
    scrape = next(b for b in blocks if "scrape_configs" in b)
    rules = next(b for b in blocks if "groups" in b)
    jobs = {job["job_name"] for job in scrape["scrape_configs"]}
    assert jobs == {"govwatch", "govwatch-compose"}
    assert scrape["scrape_configs"][0]["static_configs"][0]["targets"] == ["127.0.0.1:9108"]
    families, samples = await _exposed(database)
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert len(alerts) >= 8
    used: set[str] = set()
    for rule in alerts:
        assert set(rule) >= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert rule["labels"]["severity"] in ("critical", "warning")
        assert rule["annotations"]["summary"]
        used |= set(re.findall(r"govwatch_[a-z_]+", rule["expr"]))
    assert used
    assert used <= samples, used - samples
    # what the issue asks operators to watch has a rule
    for needed in ("govwatch_oldest_overdue_seconds", "govwatch_outbox_oldest_due_seconds",
                   "govwatch_sources_degraded", "govwatch_database_up"):  # fmt: skip
        assert needed in used
    table = DOC.read_text().split("### /metrics and /healthz", 1)[1]
    for name in families:
        shown = name + ("_total" if f"`{name}_total`" in table else "")
        assert f"`{shown}`" in table, name
