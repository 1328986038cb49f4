"""The feed masks what a careless department rule lets through, and keeps state per department.

Runs a second justice adapter on the deployment's data whose rule (wrongly) selects
the subject's name as ``detail_value``: the template check cannot see that, so the
hub's free-text analyser must replace the name before the alert is kept.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from adapters.server import AdapterServer
from pingan.cli.sandbox import adapter_config

NAME_RULE_QUERY = "SELECT dxbh AS record_id, gxsj AS raised_at, dx_xm AS detail_value FROM jzdx_jbxx"


def test_personal_data_in_a_rule_detail_is_masked_by_the_hub(alert_deployment: Any, tmp_path: Any) -> None:
    import tomli_w

    from adapters.config import parse_config
    from hub.alerts.feed import AlertFeed
    from hub.departments.client import AdapterEndpoint, DepartmentClient

    d = alert_deployment
    path = adapter_config("justice", tmp_path)
    rule = parse_config(path).alerts[0]
    text = path.read_text(encoding="utf-8")
    old = "query = " + tomli_w.dumps({"q": rule.query}).split("=", 1)[1].strip()
    assert old in text
    text = text.replace(old, "query = " + tomli_w.dumps({"q": NAME_RULE_QUERY}).split("=", 1)[1].strip())
    text = text.replace("{detail_value} consecutive missed counselling sessions", "subject {detail_value} flagged")
    text = text.replace("justice-adapter.db", "justice-adapter-2.db")
    path.write_text(text, encoding="utf-8")
    server = AdapterServer.from_config(path)
    server.start()
    try:

        async def poll() -> tuple[Any, list[Any]]:
            client = DepartmentClient(AdapterEndpoint("justice", server.address, deadline_ms=5000))
            feed = AlertFeed({"justice": client}, d.runtime.identity, d.runtime.pdp.decide_header, poll_seconds=60)
            try:
                report = await feed.poll_once()
                return report, feed.alerts
            finally:
                await client.close()

        report, alerts = d.loop.run(poll())
    finally:
        server.stop(0)
    with sqlite3.connect(d.data / "justice.db") as db:
        names = [n for (n,) in db.execute("SELECT dx_xm FROM jzdx_jbxx") if n]
    assert report.failed == () and alerts
    for alert in alerts:
        assert alert.detail.startswith("subject ") and alert.detail.endswith(" flagged")
        assert not any(name in alert.detail for name in names), "a name reached the hub's alert set"
        assert "<PERSON>" in alert.detail


def test_an_unreachable_department_keeps_its_last_alerts(alert_deployment: Any) -> None:
    from hub.alerts.feed import AlertFeed
    from hub.departments.client import AdapterEndpoint, DepartmentClient
    from pingan.cli.sandbox import free_port

    d = alert_deployment

    async def run() -> tuple[Any, Any, int, int]:
        live = d.runtime.config.adapter("justice").endpoint()
        client = DepartmentClient(live)
        feed = AlertFeed({"justice": client}, d.runtime.identity, d.runtime.pdp.decide_header)
        try:
            first = await feed.poll_once()
            count = len(feed.alerts)
            await client.close()
            # the same department now unreachable
            dead = DepartmentClient(AdapterEndpoint("justice", f"127.0.0.1:{free_port()}", deadline_ms=300, retries=0))
            feed._clients["justice"] = dead
            second = await feed.poll_once()
            await dead.close()
            return first, second, count, len(feed.alerts)
        finally:
            await client.close()

    first, second, before, after = d.loop.run(run())
    assert first.failed == () and before >= 1
    assert len(second.failed) == 1 and second.failed[0].startswith("justice: ")
    assert after == before
