"""The API's read-only resources (issue 27): click figures through the queries of `digest stats` (after a real
send to aiosmtpd and a real click through the web app), a newsletter's settings, and the budget of requests with
unknown keys per network (the rate-limit rows every process shares)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

from conftest import SECRET, run_cli, write_config
from sqlalchemy import update
from starlette.testclient import TestClient
from test_clicks import BASE, BROWSER, counted_links, parts, sent

from digest.config import load_settings
from digest.flows.runtime import Runtime
from digest.models import Delivery
from digest.web.api import keys
from digest.web.app import create_app


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def test_stats_are_those_of_digest_stats_and_404_when_analytics_is_off(tmp_path, smtp_server):
    settings, rt = sent(tmp_path, smtp_server)
    links = counted_links(parts(smtp_server.messages[0])[0])
    with rt.sessions() as session:
        session.execute(update(Delivery).values(sent_at=datetime.now(timezone.utc) - timedelta(minutes=10)))
        session.commit()
    stats_key = run_cli("apikeys", "add", "data-team", "--scope", "stats:read", config=settings.config_path)
    other_key = run_cli("apikeys", "add", "cms", "--scope", "subscribers:read", config=settings.config_path)
    key, other = stats_key.stdout.strip(), other_key.stdout.strip()
    app = create_app(settings, rt.sessions, rt.transport_factory)
    with TestClient(app, base_url=BASE, follow_redirects=False, client=("203.0.113.9", 5000),
                    headers={"User-Agent": BROWSER}) as reader:
        assert reader.get(links[1]).status_code == 302
    with TestClient(app, base_url=BASE) as client:  # a new client: the first one's shutdown wrote the click
        got = client.get("/api/v1/newsletters/daily/stats", headers=auth(key))
        assert got.status_code == 200, got.text
        assert client.get("/api/v1/newsletters/daily/stats", headers=auth(other)).status_code == 403
        one = client.get(f"/api/v1/issues/{got.json()['issues'][0]['issue']}/stats", headers=auth(key)).json()
        assert client.get("/api/v1/issues/999/stats", headers=auth(key)).status_code == 404
        settings_shown = client.get("/api/v1/newsletters/daily", headers=auth(other)).json()
        assert client.get("/api/v1/newsletters/weekly", headers=auth(other)).status_code == 404
    stats = run_cli("stats", "daily", "--csv", config=settings.config_path)
    rows = list(csv.DictReader(io.StringIO(stats.stdout)))
    issue = got.json()["issues"][0]
    assert one == issue
    assert [(str(link["number"]), str(link["people"]), str(link["requests"])) for link in issue["links"]] == [
        (r["link"], r["people"], r["requests"]) for r in rows if r["link"]]
    head = next(r for r in rows if not r["link"])
    assert (str(issue["people"]), str(issue["requests"]), str(issue["opens"])) == (
        head["people"], head["requests"], head["opens"])
    assert issue["people"] == 1 and got.json()["top"]["7d"][0]["people"] == 1
    assert settings_shown["analytics"] == {"clicks": True, "opens": True}
    assert settings_shown["sources"] == ["Wire"] and settings_shown["slug"] == "daily"

    (tmp_path / "off").mkdir()
    plain = write_config(tmp_path / "off", sources='[[newsletters.sources]]\nname = "Wire"\nurl = "wire.xml"\n')
    off = load_settings(plain, environ={"DIGEST_SECRET_KEY": SECRET})
    off_rt = Runtime.create(off)
    with off_rt.sessions() as session, session.begin():
        off_key = keys.add_key(session, "data", ["stats:read"], off_rt.now())
    with TestClient(create_app(off, off_rt.sessions, off_rt.transport_factory), base_url=BASE) as client:
        refused = client.get("/api/v1/newsletters/daily/stats", headers=auth(off_key))
    assert refused.status_code == 404 and refused.json()["title"] == "Analytics is off"


def test_a_flood_of_unknown_keys_from_one_network_is_held_and_counted_across_processes(tmp_path, smtp_server):
    config = write_config(tmp_path, smtp_port=smtp_server.port,
                          sources='[[newsletters.sources]]\nname = "Wire"\nurl = "wire.xml"\n')
    settings = load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET})
    rt = Runtime.create(settings)
    with rt.sessions() as session, session.begin():
        good = keys.add_key(session, "cms", ["subscribers:read"], rt.now())

    def client(ip: str) -> TestClient:
        return TestClient(create_app(settings, rt.sessions, rt.transport_factory), base_url=BASE,
                          client=(ip, 4000))

    keys._barred.clear()
    try:
        with client("198.51.100.7") as flood, client("198.51.100.200") as neighbour, \
                client("192.0.2.10") as elsewhere:
            answers = [flood.get("/api/v1/subscribers", headers=auth(f"dgk_forged00_{i:032d}")).status_code
                       for i in range(keys.UNKNOWN_PER_MINUTE)]
            assert answers == [401] * keys.UNKNOWN_PER_MINUTE
            assert flood.get("/api/v1/subscribers", headers=auth("dgk_forged00_x")).status_code == 429
            held = neighbour.get("/api/v1/subscribers", headers=auth(good))  # the same /24, known in memory
            assert held.status_code == 429 and held.headers["retry-after"] == "60"
            assert elsewhere.get("/api/v1/subscribers", headers=auth(good)).status_code == 200
            assert elsewhere.get("/api/v1/subscribers", headers=auth("dgk_forged00_y")).status_code == 401
            keys._barred.clear()  # another process: it knows nothing, the shared count still holds the network
            assert flood.get("/api/v1/subscribers", headers=auth("dgk_forged00_z")).status_code == 429
            assert flood.get("/api/v1/subscribers").status_code == 429  # now known here: no read at all
    finally:
        keys._barred.clear()
