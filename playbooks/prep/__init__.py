"""Preparation for every conversation: account briefs, QBR drafts, drafts held for review.

- `facts`: everything csbot knows about one account as of a date, each number with its
  source (the I/O; everything else renders or reasons over these facts).
- `brief`: the account brief (Markdown and JSON) — `build_brief`.
- `qbr`: QBR drafts, the job that finds QBRs a week out, and logging a QBR's outcomes.
- `drafts`: follow-up and check-in emails proposed by playbook steps, held for review.
- `writer`, `redact`: templates by default; optionally a chat-completions endpoint that
  sees only placeholders for people's names and emails.
"""
