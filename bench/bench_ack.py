"""Acknowledgement latency of `/cs` under concurrent signed requests.

Starts csbot's Slack routes under uvicorn in a separate process on loopback (SQLite
database of `--accounts` scored accounts, Web API calls going to the fake Slack server),
then sends `--requests` signed slash commands, `--concurrency` at a time, with httpx, and
prints p50/p95/p99/max of the time to the HTTP 200 (the ack Slack waits 3 s for). Half the
commands are answered in the ack (`help`), half acknowledge and continue in a lazy
listener (`account …`, `risk`), whose work competes with the acks for the CPU.

    .venv/bin/python bench/bench_ack.py --requests 200 --concurrency 20 --accounts 2000
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-signing-secret"


def serve(port: int) -> None:
    """Child process: build the app from CSBOT_* variables and serve it."""
    import uvicorn
    from starlette.applications import Starlette

    from bot.app.bolt import create_bolt_app
    from bot.runtime import build_runtime
    from bot.web.slack import slack_routes

    runtime = build_runtime()
    app = create_bolt_app(runtime)
    uvicorn.run(
        Starlette(routes=slack_routes(app, runtime)),
        host="127.0.0.1",
        port=port,
        log_level="warning",
    )


def seed(database_url: str, accounts: int) -> None:
    from sqlmodel import Session

    from storage.db import make_engine
    from storage.migrate import ensure_schema
    from storage.models import Account, AccountScore, SlackUser

    engine = make_engine(database_url)
    ensure_schema(engine)
    today = dt.date(2026, 6, 1)
    with Session(engine) as session:
        for index in range(accounts):
            owner = f"csm{index % 20}@example.com"
            session.add(Account(account_id=f"A{index}", name=f"Account {index} Corp", owner=owner))
            session.add(AccountScore(
                account_id=f"A{index}", as_of=today, health=30 + index % 70, band="neutral",
                churn_risk=(index % 97) / 100, arr=10_000 + index, reasons=[],
            ))  # fmt: skip
        for csm in range(20):
            session.add(SlackUser(email=f"csm{csm}@example.com", user_id=f"U{csm}",
                                  source="mapping", fetched_at=dt.datetime(2026, 6, 1)))  # fmt: skip
        session.commit()
    engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def form(index: int, response_url: str) -> str:
    text = ("help", f"account Account {index % 50} Corp", "risk", "help")[index % 4]
    return urlencode({
        "command": "/cs", "text": text, "user_id": f"U{index % 20}", "team_id": "T0001",
        "channel_id": "C1", "response_url": response_url, "trigger_id": f"t.{index}",
    })  # fmt: skip


async def load(url: str, requests: int, concurrency: int, response_url: str) -> list[float]:
    verifier = SignatureVerifier(SECRET)
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=10, limits=limits) as client:

        async def one(index: int) -> None:
            body = form(index, response_url)
            stamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": verifier.generate_signature(timestamp=stamp, body=body),
            }
            async with gate:
                started = time.perf_counter()
                response = await client.post("/slack/events", content=body, headers=headers)
                latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"request {index}: HTTP {response.status_code} {response.text}")

        await asyncio.gather(*(one(index) for index in range(requests)))
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="signed /cs requests to send")
    parser.add_argument("--concurrency", type=int, default=20, help="requests in flight at once")
    parser.add_argument(
        "--accounts", type=int, default=1000, help="accounts in the database (scale)"
    )
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return

    from tests.fakes.slack_server import FakeSlack

    fake = FakeSlack().start()
    with tempfile.TemporaryDirectory() as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        seed(database_url, args.accounts)
        port = free_port()
        env = {
            **os.environ, "CSBOT_DATABASE_URL": database_url, "CSBOT_SLACK_SIGNING_SECRET": SECRET,
            "CSBOT_SLACK_BOT_TOKEN": "xoxb-bench", "CSBOT_SLACK_API_URL": fake.api_url,
            "CSBOT_LOG_LEVEL": "WARNING",
        }  # fmt: skip
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(port)], env=env, cwd=ROOT
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.post(f"{url}/slack/events", content=b"", timeout=1)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.1)
            asyncio.run(load(url, 20, args.concurrency, fake.response_url("warm")))  # warm up
            latencies = asyncio.run(load(url, args.requests, args.concurrency, fake.response_url()))
            time.sleep(1.0)  # let lazy listeners finish before counting their answers
        finally:
            server.terminate()
            server.wait(timeout=10)
            fake.stop()
    ms = [value * 1000 for value in latencies]
    answered = len([r for r in fake.responses if r.method == "r"])
    print(f"/cs ack latency: {args.requests} signed requests, {args.concurrency} concurrent, "
          f"{args.accounts} accounts (SQLite), loopback")  # fmt: skip
    print(f"  p50 {percentile(ms, 50):7.1f} ms")
    print(f"  p95 {percentile(ms, 95):7.1f} ms")
    print(f"  p99 {percentile(ms, 99):7.1f} ms")
    print(f"  max {max(ms):7.1f} ms   mean {statistics.fmean(ms):.1f} ms")
    print(f"  lazy answers delivered to response_url: {answered} of {args.requests // 2} expected")
    print(f"  within Slack's 3 s: {sum(v < 3000 for v in ms)}/{len(ms)}")


if __name__ == "__main__":
    main()
