"""How long an account brief (and a QBR draft) takes on the demo book.

Usage: `csbot demo` first (it leaves csbot.db with 18 months of history), then
`python bench/bench_brief.py [--database-url URL] [--accounts N]`. Prints the median and
the slowest time of `build_brief` + `render_markdown` over N accounts (target: < 2 s),
from stored scores (the nightly case) and, for one account, with the score computed; and
the time of `/cs brief`'s Slack message (`build_brief` + Block Kit, validated with
slack_sdk.models and Slack's limits), which is what a person waits for in Slack.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

from sqlalchemy import func, select
from sqlmodel import Session, col

from bot.delivery.limits import validate_message
from bot.prep.messages import brief_message
from bot.slack.ids import ButtonValue
from playbooks.prep.brief import build_brief, render_markdown
from playbooks.prep.facts import AccountNotFound
from playbooks.prep.qbr import qbr_draft
from storage.db import make_engine
from storage.models import AccountScore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite:///csbot.db")
    parser.add_argument("--accounts", type=int, default=20)
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    with Session(engine) as session:
        as_of = session.execute(select(func.max(AccountScore.as_of))).scalar()
        if as_of is None:
            raise SystemExit("no scores in the database: run `csbot demo` first")
        ids = list(
            session.execute(
                select(col(AccountScore.account_id))
                .where(col(AccountScore.as_of) == as_of)
                .order_by(col(AccountScore.account_id))
                .limit(args.accounts)
            ).scalars()
        )
    build_brief(engine, ids[0], as_of)  # warm caches (VADER lexicon, imports)
    timings = []
    for account_id in ids:
        started = time.perf_counter()
        render_markdown(build_brief(engine, account_id, as_of))
        timings.append(time.perf_counter() - started)
    print(
        f"brief, stored scores ({len(ids)} accounts as of {as_of}): "
        f"median {statistics.median(timings):.3f} s, slowest {max(timings):.3f} s"
    )
    slack, blocks = [], 0
    for account_id in ids:
        started = time.perf_counter()
        share = ButtonValue(account_id=account_id, as_of=as_of.isoformat())
        message = validate_message(
            brief_message(build_brief(engine, account_id, as_of), share=share)
        )
        slack.append(time.perf_counter() - started)
        blocks = max(blocks, len(message["blocks"]))
    print(
        f"/cs brief Slack message ({len(ids)} accounts): median {statistics.median(slack):.3f} s, "
        f"slowest {max(slack):.3f} s, at most {blocks} blocks"
    )
    started = time.perf_counter()
    qbr_draft(engine, ids[0], as_of, as_of + dt.timedelta(days=7))
    print(f"QBR draft: {time.perf_counter() - started:.3f} s")
    earlier = as_of - dt.timedelta(days=3 * 30 + 1)  # no stored score: computed on the spot
    computed = []
    for account_id in ids:
        started = time.perf_counter()
        try:
            render_markdown(build_brief(engine, account_id, earlier))
        except AccountNotFound:  # not a customer yet on that date
            continue
        computed.append(time.perf_counter() - started)
        if len(computed) == 4:
            break
    print(
        f"brief, score computed as of {earlier}: first {computed[0]:.3f} s (loads the churn "
        f"model), then median {statistics.median(computed[1:]):.3f} s"
    )


if __name__ == "__main__":
    main()
