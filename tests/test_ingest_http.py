"""`POST /ingest/{entity}`: token, size limit, validation, counts — through Starlette's
TestClient and through a real uvicorn server on a free local port."""

from __future__ import annotations

import json
import threading

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.runtime import Runtime
from bot.settings import load_settings
from bot.web.ingest import ingest_routes
from storage.ingest import import_directory
from tests.test_ingest_support import dump_tables, write_rows_csv

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def body(*rows: dict) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def login(hour: int, account: str = "A1") -> dict:
    return {"account_id": account, "timestamp": f"2026-03-01T{hour:02d}:00:00Z", "event": "login"}


def make_runtime(engine, monkeypatch, tmp_path, **settings) -> Runtime:
    monkeypatch.chdir(tmp_path)  # no stray .env
    runtime = Runtime(
        settings=load_settings(
            database_url=engine.url.render_as_string(hide_password=False), **settings
        )
    )
    runtime.__dict__["engine"] = engine  # the fixture's database, schema already built
    return runtime


@pytest.fixture
def client(engine, monkeypatch, tmp_path):
    write_rows_csv(tmp_path / "data" / "accounts.csv", [{"account_id": "A1", "name": "Acme"}])
    import_directory(engine, tmp_path / "data")
    runtime = make_runtime(engine, monkeypatch, tmp_path, ingest_token=TOKEN, ingest_max_bytes=4000)
    return TestClient(Starlette(routes=ingest_routes(runtime)))


def test_counts_on_success_and_on_reimport(client, engine):
    response = client.post("/ingest/usage", content=body(login(1), login(2)), headers=AUTH)
    assert response.status_code == 200, response.text
    counts = response.json()
    assert {k: counts[k] for k in ("entity", "read", "inserted", "updated", "rejected")} == {
        "entity": "usage",
        "read": 2,
        "inserted": 2,
        "updated": 0,
        "rejected": 0,
    }
    again = client.post("/ingest/usage", content=body(login(1), login(2)), headers=AUTH).json()
    assert (again["inserted"], again["updated"]) == (0, 2)
    assert len(dump_tables(engine)["usage"]) == 2


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": "Basic x"}],
)
def test_a_missing_or_wrong_token_is_refused(client, engine, headers):
    response = client.post("/ingest/usage", content=body(login(1)), headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert dump_tables(engine)["usage"] == []


def test_bad_lines_are_422_with_problems_and_nothing_committed(client, engine):
    bad = {"account_id": "A9", "timestamp": "soon", "event": "login"}
    response = client.post("/ingest/usage", content=body(login(1), bad), headers=AUTH)
    assert response.status_code == 422
    answer = response.json()
    assert answer["problem_count"] == 2
    assert answer["problems"] == [
        {"file": "body", "line": 2, "column": "account_id", "problem": "unknown account 'A9'"},
        {
            "file": "body",
            "line": 2,
            "column": "timestamp",
            "problem": "not an ISO-8601 date or datetime: 'soon'",
        },
    ]
    assert dump_tables(engine)["usage"] == []


def test_skip_invalid_commits_the_good_lines(client, engine):
    bad = {"account_id": "A1", "timestamp": "soon", "event": "login"}
    response = client.post(
        "/ingest/usage?skip_invalid=true", content=body(login(1), bad), headers=AUTH
    )
    assert response.status_code == 200
    assert (response.json()["inserted"], response.json()["rejected"]) == (1, 1)
    assert response.json()["problems"][0]["line"] == 2


def test_too_large_is_413(client, engine):
    big = body(*(login(h % 24, "A1") for h in range(100)))
    assert len(big) > 4000
    response = client.post("/ingest/usage", content=big, headers=AUTH)
    assert response.status_code == 413

    def chunks():  # no Content-Length: the streamed size is what counts
        for _ in range(10):
            yield big[:1000]

    streamed = client.post("/ingest/usage", content=chunks(), headers=AUTH)
    assert streamed.status_code == 413
    assert dump_tables(engine)["usage"] == []


def test_unknown_entity_is_404(client):
    response = client.post("/ingest/bananas", content=b"{}\n", headers=AUTH)
    assert response.status_code == 404
    assert "usage" in response.json()["entities"]


def test_without_a_configured_token_ingest_is_disabled(engine, monkeypatch, tmp_path):
    monkeypatch.delenv("CSBOT_INGEST_TOKEN", raising=False)
    runtime = make_runtime(engine, monkeypatch, tmp_path)
    client = TestClient(Starlette(routes=ingest_routes(runtime)))
    response = client.post("/ingest/usage", content=body(login(1)), headers=AUTH)
    assert response.status_code == 503
    assert "ingest disabled" in response.json()["error"]


def test_through_a_real_uvicorn_server(engine, monkeypatch, tmp_path):
    write_rows_csv(tmp_path / "data" / "accounts.csv", [{"account_id": "A1", "name": "Acme"}])
    import_directory(engine, tmp_path / "data")
    runtime = make_runtime(engine, monkeypatch, tmp_path, ingest_token=TOKEN)
    app = Starlette(routes=ingest_routes(runtime))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            threading.Event().wait(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}/ingest/usage"
        with httpx.Client(timeout=10) as http:
            assert http.post(url, content=body(login(1))).status_code == 401
            ok = http.post(url, content=body(login(1), login(2), login(3)), headers=AUTH)
            assert ok.status_code == 200, ok.text
            assert ok.json()["inserted"] == 3
            bad = http.post(url, content=b"{oops\n", headers=AUTH)
            assert bad.status_code == 422
            assert bad.json()["problems"][0]["problem"].startswith("not valid JSON")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert len(dump_tables(engine)["usage"]) == 3
