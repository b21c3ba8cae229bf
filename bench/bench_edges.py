"""The Slack edge under hostile load: server memory while refusing 50 MB bodies, and the
ack time of the first request after a start with a slow Slack API.

Runs the real `csbot serve` (HTTP mode, no scheduler) as a child process against the fake
Slack Web API (tests/fakes/slack_server.py), whose `auth.test` answers after
`--auth-delay` seconds (6 s by default: a Slack API having a bad day).

1. Start-up: the bot token is checked before the port opens, so the first `/cs help`
   is acknowledged as fast as any other. Repeated `--restarts` times; prints the start-up
   time and the p50/p99 of the first ack (target: p99 under 300 ms).
2. Memory: the server's resident set (/proc/PID/status) while it refuses 50 MB bodies —
   declared (Content-Length), chunked and unsigned, and signed with a bad signature —
   sampled every 2 ms, against the idle resident set (target: within 20 MB).

    .venv/bin/python bench/bench_edges.py [--restarts 5] [--auth-delay 6] [--body-mb 50]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-signing-secret"


def seed(database_url: str) -> None:
    from storage.db import make_engine
    from storage.migrate import ensure_schema

    engine = make_engine(database_url)
    ensure_schema(engine)
    engine.dispose()


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def start(env: dict[str, str]) -> tuple[subprocess.Popen[str], str, float]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--no-scheduler", "--host", "127.0.0.1",
         "--port", "0"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("csbot listening on "):
        process.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    return process, line.removeprefix("csbot listening on "), time.perf_counter() - started


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def signed_help(response_url: str, index: int) -> tuple[str, dict[str, str]]:
    body = urlencode({
        "command": "/cs", "text": "help", "user_id": "U1", "team_id": "T0001",
        "channel_id": "C1", "response_url": response_url, "trigger_id": f"t.{index}",
    })  # fmt: skip
    stamp = str(int(time.time()))
    return body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(
            timestamp=stamp, body=body
        ),
    }


def first_acks(
    env: dict[str, str], restarts: int, response_url: str
) -> tuple[list[float], list[float]]:
    starts, acks = [], []
    for index in range(restarts):
        process, url, took = start(env)
        try:
            body, headers = signed_help(response_url, index)
            began = time.perf_counter()
            response = httpx.post(f"{url}/slack/events", content=body, headers=headers, timeout=30)
            acks.append((time.perf_counter() - began) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"first request: HTTP {response.status_code}")
            starts.append(took)
        finally:
            stop(process)
    return starts, acks


def send_big(port: int, head: dict[str, str], size: int, chunked: bool) -> tuple[int, float]:
    """Upload up to `size` bytes (stopping when the server answers); (status, seconds)."""
    lines = ["POST /slack/events HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in head.items()]
    block = b"x" * (256 * 1024)
    began = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        conn.setblocking(False)
        sent, answer = 0, b""
        while sent < size and not answer:
            try:
                answer = conn.recv(4096)
                break
            except BlockingIOError:
                pass
            part = block[: min(len(block), size - sent)]
            data = f"{len(part):x}\r\n".encode() + part + b"\r\n" if chunked else part
            try:
                conn.setblocking(True)
                conn.settimeout(2)
                conn.sendall(data)
                sent += len(part)
                conn.setblocking(False)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                break
        conn.setblocking(True)
        conn.settimeout(30)
        while not answer:
            try:
                answer = conn.recv(4096)
            except ConnectionResetError:
                break
            if not answer:
                break
    status = int(answer.split(b" ", 2)[1]) if answer else 0
    return status, time.perf_counter() - began


def memory_under_big_bodies(env: dict[str, str], size: int, response_url: str) -> None:
    process, url, _ = start(env)
    port = int(url.rsplit(":", 1)[1])
    try:
        for index in range(20):  # warm: imports, thread pool, database connections
            body, headers = signed_help(response_url, index)
            httpx.post(f"{url}/slack/events", content=body, headers=headers, timeout=10)
        time.sleep(0.5)
        idle = rss_kb(process.pid)
        peak = [idle]
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.is_set():
                peak[0] = max(peak[0], rss_kb(process.pid))
                time.sleep(0.002)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        stamp = str(int(time.time()))
        bad = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + "0" * 64}
        cases = [
            ("unsigned, Content-Length 50 MB", {"Content-Length": str(size)}, False),
            ("unsigned, chunked", {"Transfer-Encoding": "chunked"}, True),
            ("bad signature, Content-Length", {**bad, "Content-Length": str(size)}, False),
            ("bad signature, chunked", {**bad, "Transfer-Encoding": "chunked"}, True),
        ]
        results = []
        for label, head, chunked in cases:
            head = {"Content-Type": "application/x-www-form-urlencoded", **head}
            status, seconds = send_big(port, head, size, chunked)
            results.append((label, status, seconds))
        time.sleep(0.2)
        sampling.set()
        sampler.join()
        after = rss_kb(process.pid)
    finally:
        stop(process)
    print(f"Memory while refusing {size / 1e6:.0f} MB bodies (server process, resident set):")
    for label, status, seconds in results:
        print(f"  {label:34s} HTTP {status}  answered in {seconds * 1000:7.1f} ms")
    print(f"  idle {idle / 1024:6.1f} MB   peak {peak[0] / 1024:6.1f} MB   "
          f"after {after / 1024:6.1f} MB   peak - idle {(peak[0] - idle) / 1024:5.1f} MB "
          f"(target ≤ 20 MB)")  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--restarts", type=int, default=5, help="starts measured for the first ack")
    parser.add_argument("--auth-delay", type=float, default=6.0, help="auth.test delay (s)")
    parser.add_argument("--body-mb", type=float, default=50.0, help="size of the hostile bodies")
    args = parser.parse_args()

    from tests.fakes.slack_server import FakeSlack

    fake = FakeSlack().start()
    fake.fail("auth.test", delay=args.auth_delay, times=args.restarts + 1)
    with tempfile.TemporaryDirectory() as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        seed(database_url)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CSBOT_")},
            "CSBOT_DATABASE_URL": database_url, "CSBOT_SLACK_SIGNING_SECRET": SECRET,
            "CSBOT_SLACK_BOT_TOKEN": "xoxb-bench", "CSBOT_SLACK_API_URL": fake.api_url,
            "CSBOT_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT),
        }  # fmt: skip
        try:
            starts, acks = first_acks(env, args.restarts, fake.response_url())
            print(f"First request after a start, auth.test answering in {args.auth_delay:g} s "
                  f"({args.restarts} starts):")  # fmt: skip
            print(
                f"  start-up (token checked before listening): median {statistics.median(starts):.1f} s"
            )
            print(f"  first /cs help ack: p50 {percentile(acks, 50):6.1f} ms   "
                  f"p99 {percentile(acks, 99):6.1f} ms   (target p99 < 300 ms)")  # fmt: skip
            memory_under_big_bodies(env, int(args.body_mb * 1_000_000), fake.response_url())
        finally:
            fake.stop()


if __name__ == "__main__":
    main()
