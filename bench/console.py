"""How fast the operator's console answers with 100,000 subscribers and 1,000 issues (issue 16: target < 100 ms).

    .venv/bin/python bench/console.py [--subscribers 100000] [--issues 1000] [--runs 7] [--db sqlite,postgresql]

Fills a scratch database (bench/console_fill.py says what goes in), logs an
admin in, and asks every console page through the real ASGI app (Starlette's
TestClient, the same routes, templates and queries as production) `--runs`
times after one cold request, printing the cold time, the median and the
worst per page. SQLite is a file in a temporary folder; PostgreSQL is a
scratch database on 127.0.0.1:5432 (user postgres, trust; $DIGEST_BENCH_POSTGRES
overrides the admin URL), dropped at the end. Nothing is asserted: the
figures are printed, and bench/README.md keeps them.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa  # noqa: E402
from console_fill import NOW, SOURCES, WEEKLY_SOURCE, address, fill  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from digest.flows.runtime import Runtime  # noqa: E402
from digest.config import load_settings  # noqa: E402
from digest.web.admin import accounts  # noqa: E402
from digest.web.app import create_app  # noqa: E402

PG_ADMIN = os.environ.get("DIGEST_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench password, not a secret"
TARGET_MS = 100.0


def write_config(folder: Path, url: str) -> Path:
    sources = "\n".join(f'[[newsletters.sources]]\nname = "Source {i}"\nurl = "{u}"\n' for i, u in enumerate(SOURCES))
    text = textwrap.dedent(f"""\
        [site]
        name = "Bench Gazette"
        base_url = "https://gazette.example.org"
        postal_address = "1 Bench Road, Testville"
        unsubscribe_mailbox = "unsubscribe@gazette.example.org"

        [storage]
        url = "{url}"

        [delivery]
        transport = "file"
        outbox_dir = "outbox"

        [[newsletters]]
        slug = "daily"
        title = "Gazette Daily"
        description = "Every morning."
        from_address = "Gazette Daily <daily@gazette.example.org>"
        schedule = "0 7 * * *"
        review = "required"
        """) + sources + textwrap.dedent(f"""
        [[newsletters]]
        slug = "weekly"
        title = "Gazette Weekly"
        description = "Saturdays."
        from_address = "Gazette Weekly <weekly@gazette.example.org>"
        schedule = "0 8 * * 6"

        [[newsletters.sources]]
        name = "Weekly review"
        url = "{WEEKLY_SOURCE}"
        """)
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def pages(info: dict, client: TestClient) -> list[tuple[str, str]]:
    newest, oldest = info["daily"][-1], info["daily"][0]
    big_sent = info["daily"][-2]
    with_fragment = address(4242).split("@")[0][3:9]  # e.g. "der004": matches inside addresses only
    reader = client.get(f"/admin/readers?q={address(4242)}").text
    reader_id = re.search(r'href="/admin/readers/(\d+)"', reader).group(1)
    review = re.search(r'href="/admin/review/(\d+)"', client.get("/admin/review").text).group(1)
    return [
        ("dashboard", "/admin"),
        ("newsletter page (daily)", "/admin/newsletters/daily"),
        ("issues list", "/admin/issues"),
        ("issues list, page 10", f"/admin/issues?before={newest - 450}"),
        ("issue detail, newest (sending, ~85k rows)", f"/admin/issues/{newest}"),
        ("issue detail, sent (~85k rows)", f"/admin/issues/{big_sent}"),
        ("issue detail, oldest", f"/admin/issues/{oldest}"),
        ("issue as sent (frame)", f"/admin/issues/{big_sent}/sent.html"),
        ("readers: full address", f"/admin/readers?q={address(4242)}"),
        ("readers: fragment", f"/admin/readers?q={with_fragment}"),
        ("readers: fragment found nowhere", "/admin/readers?q=qqzx"),
        ("reader detail", f"/admin/readers/{reader_id}"),
        ("next issue (daily)", "/admin/newsletters/daily/next"),
        ("next issue preview (frame)", "/admin/newsletters/daily/preview.html"),
        ("review list", "/admin/review"),
        ("review draft", f"/admin/review/{review}"),
        ("audit log", "/admin/audit"),
    ]


def login(client: TestClient) -> None:
    page = client.get("/admin/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    answer = client.post("/admin/login", data={"name": "ann", "password": PASSWORD, "login_token": token,
                                               "next": "/admin"}, follow_redirects=False)
    if answer.status_code != 303:
        raise SystemExit(f"login failed: {answer.status_code} {answer.text[:200]}")


def measure(label: str, url: str, folder: Path, args) -> list[tuple[str, float, float, float]]:
    settings = load_settings(write_config(folder, url), environ={"DIGEST_SECRET_KEY": secrets.token_hex(16)})
    rt = Runtime.create(settings)
    rt.now = lambda: NOW
    started = time.perf_counter()
    print(f"{label}: filling", flush=True)
    info = fill(rt, args.subscribers, args.issues, say=lambda line: print(line, flush=True))
    print(f"  filled in {time.perf_counter() - started:.0f} s", flush=True)
    with rt.sessions() as session, session.begin():
        accounts.add_operator(session, "ann", "admin", PASSWORD, NOW, email="ann@gazette.example.org")
    app = create_app(settings, rt.sessions, rt.transport_factory, now=lambda: NOW)
    rows = []
    with TestClient(app, base_url="https://gazette.example.org") as client:
        login(client)
        for name, path in pages(info, client):
            times = []
            for _ in range(args.runs + 1):
                begin = time.perf_counter()
                answer = client.get(path, follow_redirects=False)
                times.append((time.perf_counter() - begin) * 1000)
                if answer.status_code != 200:
                    raise SystemExit(f"{path}: HTTP {answer.status_code}")
            cold, warm = times[0], times[1:]
            rows.append((name, cold, statistics.median(warm), max(warm)))
            flag = "" if max(warm) < TARGET_MS else "   <-- over 100 ms"
            print(f"  {name:44} cold {cold:7.1f}  median {statistics.median(warm):7.1f}  worst {max(warm):7.1f} ms"
                  f"{flag}", flush=True)
    rt.sessions.kw["bind"].dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--issues", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--db", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"{args.subscribers:,} subscribers, {args.issues:,} issues, {args.runs} runs a page after a cold one "
          f"(times in ms, the request through the ASGI app)\n", flush=True)
    with tempfile.TemporaryDirectory(prefix="digest-console-bench-") as tmp:
        if "sqlite" in args.db:
            folder = Path(tmp) / "sqlite"
            folder.mkdir()
            measure("SQLite", "sqlite:///digest.db".replace("digest.db", str(folder / "digest.db")), folder, args)
        if "postgresql" in args.db:
            name = f"digest_bench_console_{secrets.token_hex(4)}"
            admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            try:
                with admin.connect() as connection:
                    connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
            except sa.exc.OperationalError as exc:
                print(f"PostgreSQL skipped: cannot create a database via {PG_ADMIN}: {exc.orig}")
                return
            try:
                folder = Path(tmp) / "postgresql"
                folder.mkdir()
                measure("PostgreSQL", PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", folder, args)
            finally:
                with admin.connect() as connection:
                    connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
