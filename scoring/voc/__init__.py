"""Voice of the customer: survey comments and ticket subjects grouped into themes.

- `themes`: TF-IDF + NMF over the texts, labels from top terms, volume, trend and tone (pure).
- `service`: reads the texts and accounts, routes themes to owners (`voc_report`).
- `render`: the report as Slack mrkdwn text, every verbatim escaped.
"""
