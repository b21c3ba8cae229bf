"""Choosing and ordering the accounts of a digest, on plain AccountScore objects, with the
one attention ranking (`bot.accounts.attention`, over `scoring.attention`)."""

from __future__ import annotations

import datetime as dt

from bot.accounts.attention import attention_why, rank_accounts
from bot.accounts.ranking import AttentionRules, arr_weight, rank_expansion, top_reasons
from bot.accounts.trend import sparkline, weekly_points
from bot.digests.service import select_digests
from storage.models import AccountScore

AS_OF = dt.date(2026, 6, 1)


def score(account_id: str, **values: object) -> AccountScore:
    defaults: dict[str, object] = {
        "as_of": AS_OF,
        "health": 85.0,
        "band": "healthy",
        "health_delta_30d": 0.0,
        "arr": 50_000.0,
        "churn_risk": 0.05,
    }
    defaults.update(values)
    return AccountScore(account_id=account_id, **defaults)  # type: ignore[arg-type]


def test_healthy_steady_accounts_do_not_qualify() -> None:
    assert attention_why(score("a"), AS_OF) == ()


def test_each_rule_qualifies_an_account() -> None:
    assert attention_why(score("a", band="critical", health=30), AS_OF) == ("critical",)
    assert attention_why(score("b", health_delta_30d=-12), AS_OF) == ("falling_fast",)
    assert attention_why(score("c", churn_risk=0.7), AS_OF) == ("high_churn_risk",)
    assert attention_why(score("d", stakeholder_band="critical"), AS_OF) == (
        "stakeholder_critical",
    )
    # renewing soon with churn risk at half the alert line or more (which is also
    # elevated risk: a third of the line)
    renewing = score("e", churn_risk=0.3, renewal_date=AS_OF + dt.timedelta(days=40))
    assert attention_why(renewing, AS_OF) == ("elevated_churn_risk", "renewal_at_risk")
    # elevated risk alone: a third of the alert line, no renewal near
    assert attention_why(score("h", churn_risk=0.2), AS_OF) == ("elevated_churn_risk",)
    # a healthy account renewing soon with low risk is not a worry
    calm = score("f", renewal_date=AS_OF + dt.timedelta(days=40))
    assert attention_why(calm, AS_OF) == ()
    # thresholds are rules, not constants
    strict = AttentionRules(risk_threshold=0.04)
    assert attention_why(score("g"), AS_OF, strict) == ("high_churn_risk",)


def test_arr_weighting_orders_same_trouble_by_size_but_a_free_fall_beats_a_blemish() -> None:
    small = score("small", band="at_risk", health=55, arr=10_000, churn_risk=0.4)
    big = score("big", band="at_risk", health=55, arr=1_000_000, churn_risk=0.4)
    ranked = [s.account_id for s, _p, _w in rank_accounts([small, big], AS_OF)]
    assert ranked == ["big", "small"]
    falling = score(
        "falling", band="critical", health=25, health_delta_30d=-35, arr=20_000, churn_risk=0.9
    )
    blemish = score("blemish", band="healthy", health=81, health_delta_30d=-10, arr=300_000)
    ranked = [s.account_id for s, _p, _w in rank_accounts([blemish, falling], AS_OF)]
    assert ranked == ["falling", "blemish"]
    assert arr_weight(1_000) == 1.0 and arr_weight(100_000) == 3.0


def test_ranking_is_deterministic_on_ties() -> None:
    rows = [score(f"acc-{i}", band="at_risk", health=50) for i in (3, 1, 2)]
    assert [s.account_id for s, _p, _w in rank_accounts(rows, AS_OF)] == [
        "acc-1",
        "acc-2",
        "acc-3",
    ]


def test_expansion_candidates_exclude_accounts_in_trouble() -> None:
    grow = score("grow", expansion=0.8, arr=200_000)
    smaller = score("smaller", expansion=0.9, arr=5_000)
    troubled = score("troubled", expansion=0.9, band="at_risk", health=50)
    weak = score("weak", expansion=0.3)
    ranked = [s.account_id for s, _p in rank_expansion([grow, smaller, troubled, weak])]
    assert ranked == ["grow", "smaller"]


def test_top_reasons_puts_what_pulls_health_down_first_and_never_repeats_a_signal() -> None:
    reasons = [
        {"signal": "nps_last", "impact": 2.0, "text": "NPS 9 from the champion"},
        {"signal": "login_change", "impact": -12.0, "text": "Logins down 46%"},
        {"signal": "sponsor_silent_days", "impact": -8.0, "text": "Sponsor silent 52 days"},
    ]
    churn = [{"signal": "login_change", "impact": 20.0, "text": "Logins down (model)"}]
    churn.append({"signal": "tickets_30d", "impact": 9.0, "text": "Tickets up 3x"})
    got = top_reasons(score("a", reasons=reasons, churn_reasons=churn))
    assert got == ("Logins down 46%", "Sponsor silent 52 days", "Tickets up 3x")


def test_select_digests_groups_by_owner_caps_size_and_excludes() -> None:
    rows = []
    for i in range(6):
        rows.append((score(f"d{i}", band="critical", health=30 + i), f"Dana {i}", "dana@x.io"))
    rows.append((score("e0", band="at_risk", health=50), "Eli 0", "eli@x.io"))
    rows.append((score("e1", expansion=0.9), "Eli 1", "eli@x.io"))
    rows.append((score("e2"), "Eli 2", "eli@x.io"))
    chosen = select_digests(rows, AS_OF, size=4, excluded={"d0"}, not_a_risk={"d1"})
    dana, eli = chosen["dana@x.io"], chosen["eli@x.io"]
    assert [s.account_id for s, _p, _w in dana.attention] == ["d2", "d3", "d4", "d5"]
    assert dana.total_attention == 4 and dana.book_size == 6
    assert [s.account_id for s, _p, _w in eli.attention] == ["e0"]
    assert [s.account_id for s, _p in eli.expansion] == ["e1"]
    # a 'not a risk' account may still be an expansion candidate; a snoozed one is gone
    chosen = select_digests(rows, AS_OF, size=4, not_a_risk={"e1"}, excluded={"e0"})
    assert chosen["eli@x.io"].attention == []
    assert [s.account_id for s, _p in chosen["eli@x.io"].expansion] == ["e1"]


def test_weekly_points_take_the_latest_score_of_each_week() -> None:
    history = [(AS_OF - dt.timedelta(days=d), 100.0 - d) for d in range(0, 84, 3)]
    points = weekly_points(history, AS_OF)
    assert len(points) == 12
    assert points[-1] == 100.0  # today's score
    assert points[0] == 100.0 - 78  # oldest week: its latest day is 78 days ago
    gaps = weekly_points([(AS_OF, 50.0)], AS_OF)
    assert gaps[:-1] == (None,) * 11


def test_sparkline_shows_a_fall_and_keeps_a_flat_line_flat() -> None:
    falling = sparkline([80, 78, 75, 70, 66, 60, 55, 50, 45, 40, 36, 30])
    assert falling[0] == "█" and falling[-1] == "▁" and len(falling) == 12
    flat = sparkline([60, 61, 60, 59, 60, 61, 60, 60, 59, 60, 60, 61])
    assert set(flat) <= {"▃", "▄", "▅", "▆"}
    assert sparkline([None, 50.0, None, 52.0]) == "▄·▅"
    assert sparkline([None, 50.0, None]) == ""
    assert sparkline([None, None]) == ""
