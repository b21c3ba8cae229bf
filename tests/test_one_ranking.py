"""One attention ranking, pinned: the digest, "See all", the App Home, `/cs risk`, alerts
and `csbot digest --format json` all order accounts with `scoring.attention.rank_attention`.

The test wraps that one function so it returns the real ranking *reversed*: a surface
that orders accounts any other way (its own sort, an old rank function) shows the real
order and fails here. Slack surfaces go through the real HTTP endpoint with signed
requests against the fake Slack server (tests.test_slack_harness)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from typer.testing import CliRunner

import scoring.attention
from bot.alerts.messages import alert_message
from bot.alerts.service import plan_alerts
from bot.cli import app
from bot.delivery.limits import validate_message
from storage import migrate
from storage.models import Account, AccountScore
from tests.test_noise_slack import add_troubled, my_digest
from tests.test_slack_commands import ask, texts
from tests.test_slack_harness import NOW, Bot
from tests.test_slack_home import open_home

pytest_plugins = ["tests.test_slack_harness"]


class Spy:
    """`rank_attention`, recorded, with its order reversed."""

    def __init__(self) -> None:
        self.real = scoring.attention.rank_attention
        self.calls: list[list[str]] = []

    def __call__(self, records: Any, as_of: dt.date, settings: Any = None) -> list[Any]:
        ranked = list(reversed(self.real(list(records), as_of, settings)))
        self.calls.append([str(scoring.attention._get(r[0], "account_id")) for r in ranked])
        return ranked

    def last_order(self, containing: set[str]) -> list[str]:
        """The order of the latest call that ranked all of `containing`."""
        for order in reversed(self.calls):
            if containing <= set(order):
                return order
        raise AssertionError(f"rank_attention never ranked {sorted(containing)}: {self.calls}")


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Spy]:
    wrapped = Spy()
    monkeypatch.setattr(scoring.attention, "rank_attention", wrapped)
    yield wrapped


# A1 (Acme Corp) is the seed's at-risk account; six more make the digest need "See all".
TROUBLED = {f"T{i:02d}" for i in range(6)} | {"A1"}
NAMES = {f"T{i:02d}": f"Troubled {i:02d}" for i in range(6)} | {"A1": "Acme Corp"}


def _positions(text: str, order: list[str]) -> list[int]:
    """Where each account of `order` shown in `text` appears (those not shown skipped)."""
    return [text.index(NAMES[a]) for a in order if a in NAMES and NAMES[a] in text]


def test_digest_see_all_home_and_risk_show_the_ranking_order(bot: Bot, spy: Spy) -> None:
    add_troubled(bot, 6)
    # the digest
    message = my_digest(bot)
    order = [a for a in spy.last_order(TROUBLED) if a in TROUBLED]
    real = [a for a in reversed(order)]
    assert real[0] == "A1"  # the real ranking puts the $120k account first …
    shown = texts(message)
    positions = _positions(shown, order)
    assert len(positions) == 5  # CSBOT_DIGEST_SIZE's default: the ranking's first five
    assert all(NAMES[a] in shown for a in order[:5]) and NAMES["A1"] not in shown
    assert positions == sorted(positions), "the digest does not show rank_attention's order"
    # … "See all"
    see_all = next(b for b in message["blocks"] if b.get("block_id") == "digest-see-all")
    button = see_all["elements"][0]
    calls = len(spy.calls)
    bot.click(
        {"type": "button", "action_id": "digest-see-all", "block_id": "digest-see-all",
         "value": button["value"]},
        message=message,
    )  # fmt: skip
    view = bot.wait_calls("views.open")[0].args["view"]
    assert len(spy.calls) > calls
    listed = [
        b["block_id"][len("see-all-") :]
        for b in view["blocks"]
        if b["block_id"].startswith("see-all-") and b["type"] == "section"
    ]
    assert [a for a in listed if a in TROUBLED] == order
    # the App Home (the whole book: the ranking's accounts first)
    calls = len(spy.calls)
    home = json.dumps(open_home(bot), ensure_ascii=False)
    assert len(spy.calls) > calls
    positions = _positions(home, order)
    assert positions == sorted(positions), "the App Home does not show rank_attention's order"
    # /cs risk
    calls = len(spy.calls)
    risk = texts(ask(bot, "risk"))
    assert len(spy.calls) > calls
    positions = _positions(risk, order)
    assert positions == sorted(positions), "/cs risk does not show rank_attention's order"
    assert bot.check_payloads() >= 3


def _score(account_id: str, *, risk: float, arr: float, band: str = "neutral") -> AccountScore:
    return AccountScore(
        account_id=account_id,
        as_of=NOW.date(),
        health=65.0 if band == "neutral" else 45.0,
        band=band,
        health_delta_30d=0.0,
        churn_risk=risk,
        arr=arr,
        reasons=[{"signal": "login_change", "impact": -6.0, "text": "Logins down <40%> & more"}],
    )


def test_alerts_fire_in_the_ranking_order_and_say_why_today(spy: Spy) -> None:
    scores = [
        _score("big", risk=0.7, arr=500_000.0),
        _score("mid", risk=0.6, arr=100_000.0, band="at_risk"),
        _score("small", risk=0.55, arr=10_000.0),
    ]
    plan = plan_alerts(scores, {}, {}, snoozed=set(), snooze_ended={}, risk_threshold=0.5)
    assert spy.calls, "alerts did not ask rank_attention"
    fired = list(dict.fromkeys(c.account_id for c in plan.fire))
    assert fired == spy.calls[-1] == ["small", "mid", "big"]  # the (reversed) ranking's order
    for candidate in plan.fire:
        assert candidate.why_today and candidate.why_today.startswith("Churn risk")
    message = alert_message(plan.fire[0], name="Small <Co>", score=scores[2])
    validate_message(message)
    why = next(b for b in message["blocks"] if b.get("block_id") == "alert-why-today")
    assert why["elements"][0]["text"].startswith("*Why today:* Churn risk 55%")
    assert "&lt;40%&gt; &amp;" in json.dumps(message)  # reasons from data are escaped


def test_an_alert_needs_a_reason_from_the_ranking(spy: Spy, monkeypatch) -> None:
    """Crossing a threshold is not enough: when the ranking gives no reason today (here it
    lists nobody), nothing fires."""
    monkeypatch.setattr(scoring.attention, "rank_attention", lambda *a, **k: [])
    plan = plan_alerts(
        [_score("big", risk=0.9, arr=500_000.0, band="at_risk")],
        {},
        {},
        snoozed=set(),
        snooze_ended={},
        risk_threshold=0.5,
    )
    assert plan.fire == []


def test_digest_json_is_the_ranking_order(
    empty_engine: Engine, spy: Spy, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrate.upgrade(empty_engine)
    with Session(empty_engine) as session:
        for i, (risk, arr) in enumerate(((0.7, 500_000.0), (0.6, 90_000.0), (0.55, 10_000.0))):
            session.add(Account(account_id=f"J{i}", name=f"Json {i}", owner="dana@x.io"))
            score = _score(f"J{i}", risk=risk, arr=arr)
            session.add(score)
        session.commit()
    monkeypatch.chdir(tmp_path)
    url = empty_engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        app,
        ["digest", "--as-of", NOW.date().isoformat(), "--format", "json"],
        env={"CSBOT_DATABASE_URL": url},
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["per_csm"] == 5  # CSBOT_DIGEST_SIZE's default
    (dana,) = [csm["accounts"] for csm in data["csms"] if csm["owner"] == "dana@x.io"]
    assert [a["account_id"] for a in dana] == spy.calls[-1] == ["J2", "J1", "J0"]
    assert [a["rank"] for a in dana] == [1, 2, 3]
