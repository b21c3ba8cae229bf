"""The draft writer against a real chat-completions endpoint on 127.0.0.1: no name or
email reaches it, names come back restored, and any failure falls back to the template."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import Session, select

from playbooks.prep.redact import Redactor
from playbooks.prep.writer import Writer, WriterConfig, WriteRequest
from storage.models import WriterCall


class FakeChat:
    """An OpenAI-compatible /v1/chat/completions that records bodies and answers as told."""

    def __init__(self) -> None:
        self.bodies: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.mode = "ok"
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
                fake.bodies.append(raw)
                fake.headers.append(dict(self.headers))
                if fake.mode == "error":
                    self.send_response(500)
                    self.end_headers()
                    return
                if fake.mode == "slow":
                    time.sleep(1.0)
                prompt = json.loads(raw)["messages"][-1]["content"]
                person = "[PERSON_1]" if "[PERSON_1]" in prompt else "there"
                answer = f"Hi {person}, thanks for your time. Reach me any time."
                if fake.mode == "invent":
                    answer = "Hi [PERSON_9]."
                payload = json.dumps(
                    {
                        "choices": [{"message": {"role": "assistant", "content": answer}}],
                        "usage": {"prompt_tokens": 42, "completion_tokens": 12},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_chat():
    server = FakeChat()
    yield server
    server.stop()


REQUEST = WriteRequest(
    account_id="A1",
    purpose="follow_up",
    template_text="Hi Ana Lima, thank you. Copy ben@acme.example and Ana on the recap.",
    facts={"account": "Acme Corp", "sponsor": "Ben Okafor (ben@acme.example)", "ARR": "48,000"},
    names=("Ana Lima", "Ben Okafor"),
    emails=("ana@acme.example", "ben@acme.example"),
)


def test_redactor_round_trip():
    r = Redactor(["Ana Lima"], ["ana@acme.example"])
    hidden = r.redact("Ana Lima (ana@acme.example) met Ana and x@y.example")
    assert "Ana" not in hidden and "@" not in hidden
    assert r.restore(hidden).startswith("Ana Lima (ana@acme.example) met Ana Lima and x@y.example")


def test_no_name_or_email_reaches_the_endpoint(fake_chat, engine, clock):
    writer = Writer(WriterConfig(url=fake_chat.url, model="m1", api_key="k"), engine, clock)
    written = writer.write(REQUEST)
    assert written.written_by == "m1"
    assert written.text == "Hi Ben Okafor, thanks for your time. Reach me any time."  # [PERSON_1]
    body = fake_chat.bodies[0]
    for secret in ("Ana", "Lima", "Ben", "Okafor", "acme.example", "@"):
        assert secret not in body
    assert "Acme Corp" in body and "48,000" in body
    assert fake_chat.headers[0]["Authorization"] == "Bearer k"
    with Session(engine) as session:
        call = session.exec(select(WriterCall)).one()
    assert (call.account_id, call.purpose, call.status) == ("A1", "follow_up", "ok")
    assert (call.prompt_tokens, call.completion_tokens) == (42, 12)


@pytest.mark.parametrize("mode", ["error", "slow", "invent"])
def test_failures_fall_back_to_the_template(fake_chat, engine, clock, mode):
    fake_chat.mode = mode
    writer = Writer(
        WriterConfig(url=fake_chat.url, model="m1", timeout_seconds=0.3, retries=1),
        engine,
        clock,
        sleep=lambda _: None,
    )
    written = writer.write(REQUEST)
    assert written == type(written)(REQUEST.template_text, "template")
    assert len(fake_chat.bodies) == (1 if mode == "invent" else 2)  # retried once
    with Session(engine) as session:
        call = session.exec(select(WriterCall)).one()
    assert call.status == "fallback" and call.error


def test_unreachable_endpoint_and_no_endpoint(engine, clock):
    offline = Writer(WriterConfig(url=None))
    assert offline.write(REQUEST).written_by == "template"
    gone = Writer(WriterConfig(url="http://127.0.0.1:9/v1", retries=0), engine, clock)
    assert gone.write(REQUEST).text == REQUEST.template_text
