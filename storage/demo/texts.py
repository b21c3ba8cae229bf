"""Ticket and survey text whose tone follows the account's state.

A calm account writes how-to questions and thanks; a troubled one writes about repeated
failures, lost time and alternatives. Sentences are combined at random so that texts
vary, and the tones are worded so a lexicon sentiment model (VADER) reads them as such.
"""

from __future__ import annotations

import numpy as np

TICKET_TOPICS = (
    "report",
    "integration",
    "sso",
    "export",
    "dashboard",
    "billing",
    "performance",
    "permissions",
    "automation",
    "api",
)

_SUBJECTS = {
    "report": ("Scheduled report question", "Report totals look off", "Reports not loading"),
    "integration": ("Salesforce sync setup", "Integration sync delayed", "Sync keeps failing"),
    "sso": ("Configuring SSO with Okta", "SSO login loop for some users", "SSO is broken"),
    "export": ("Export to CSV", "Export is missing columns", "Exports time out"),
    "dashboard": ("Sharing a dashboard", "Dashboard filters reset", "Dashboards are empty"),
    "billing": ("Invoice copy needed", "Question about our invoice", "Charged incorrectly"),
    "performance": ("Page load time", "App feels slow today", "App is unusably slow"),
    "permissions": ("Adding a new admin", "Users cannot see projects", "Access lost for team"),
    "automation": ("Workflow trigger options", "Automation ran twice", "Automations stopped"),
    "api": ("API rate limits", "API returns 500 errors", "API outage is blocking us"),
}

_CALM = (
    "Could you point us to the documentation for this?",
    "Thanks for the help, this is a great tool for our team.",
    "We would love some guidance on the best way to set this up.",
    "No rush on this one, just want to make sure we are doing it right.",
    "Our team is enjoying the new features, thanks!",
    "Happy to jump on a quick call if that is easier.",
    "Appreciate the quick responses as always.",
)
_CONCERNED = (
    "This has happened a few times now and it is slowing the team down.",
    "Could you look into this soon? A few users have noticed.",
    "We are not sure whether this is a bug or a configuration issue.",
    "It worked last week but something seems to have changed.",
    "Please let us know when we can expect a fix.",
)
_FRUSTRATED = (
    "This is the third time this month and our team is frustrated.",
    "Honestly this is unacceptable, we have lost days of work because of it.",
    "Nobody has answered our last two tickets and we are very disappointed.",
    "Leadership is asking whether this product is worth the cost.",
    "We are evaluating alternatives if this problem is not fixed quickly.",
    "The team has stopped using it because it keeps failing.",
    "This is a serious problem and it is hurting our business.",
)

_NPS_PROMOTER = (
    "Great product, our team relies on it every day.",
    "Love the dashboards and the support team is excellent.",
    "Easy to use and it saves us hours every week.",
    "Really happy with the value we get, great partnership.",
)
_NPS_PASSIVE = (
    "Does the job, a few rough edges.",
    "Useful, but reporting could be more flexible.",
    "Fine overall, onboarding new users takes some effort.",
    "Okay for now, pricing feels a bit high.",
)
_NPS_DETRACTOR = (
    "Too many bugs and terrible support, very disappointed.",
    "Hard to use and frustrating, the team gave up on most features.",
    "Bad experience, the integration keeps breaking and nobody fixes it.",
    "Not worth the price, a waste of money for what we actually use.",
    "Poor reliability, we are unhappy and looking at other tools.",
)


def tone_for(trouble: float, rng: np.random.Generator) -> str:
    """Pick calm / concerned / frustrated with odds that rise with trouble (0..1)."""
    frustrated = 0.03 + 0.8 * trouble
    concerned = 0.12 + 0.3 * trouble
    draw = rng.random()
    if draw < frustrated:
        return "frustrated"
    if draw < frustrated + concerned:
        return "concerned"
    return "calm"


def ticket_text(topic: str, tone: str, rng: np.random.Generator) -> tuple[str, str]:
    """A subject and a two-to-three-sentence body on `topic` in `tone`."""
    subjects = _SUBJECTS[topic]
    subject = subjects[{"calm": 0, "concerned": 1, "frustrated": 2}[tone]]
    pool = {"calm": _CALM, "concerned": _CONCERNED, "frustrated": _FRUSTRATED}[tone]
    opening = {
        "calm": f"Hi team, quick question: {subject.lower()}.",
        "concerned": f"Hello, we are seeing a problem: {subject.lower()}.",
        "frustrated": f"{subject}. Again.",
    }[tone]
    picks = rng.choice(len(pool), size=2, replace=False)
    body = " ".join([opening, *(pool[int(i)] for i in picks)])
    return subject, body


def nps_comment(score: int, rng: np.random.Generator) -> str:
    """A comment that matches an NPS score (promoter, passive or detractor)."""
    pool = _NPS_PROMOTER if score >= 9 else _NPS_PASSIVE if score >= 7 else _NPS_DETRACTOR
    return pool[int(rng.integers(len(pool)))]
