"""Themes in short customer texts: TF-IDF weighting, NMF factorisation (scikit-learn).

Each text goes to the theme with its largest NMF weight (texts with no weight on any
theme fall in no theme). A theme is labelled by its top terms; its examples are the
texts that load on it most. The previous period's texts are projected on the same
themes (`transform`) so each theme's volume can be compared with before.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer

from scoring.signals.sentiment import compound

TOP_TERMS = 8
LABEL_TERMS = 3
EXAMPLES = 3


@dataclass(frozen=True, slots=True)
class Doc:
    text: str
    account_id: str
    at: dt.datetime
    source: str  # survey or ticket
    doc_id: str


@dataclass
class Theme:
    label: str
    terms: list[str]
    docs: list[Doc]
    previous: int
    tone: float
    examples: list[str]
    accounts: list[str] = field(default_factory=list)

    @property
    def volume(self) -> int:
        return len(self.docs)

    @property
    def trend(self) -> float | None:
        """Change in volume against the previous period (None when it had none)."""
        return None if self.previous == 0 else self.volume / self.previous - 1.0


def choose_k(n_docs: int) -> int:
    return int(min(10, max(2, round(np.sqrt(n_docs / 4)))))


def find_themes(
    docs: list[Doc], previous: list[Doc] | None = None, n_themes: int | None = None, seed: int = 0
) -> list[Theme]:
    """Group `docs` into themes (largest first); count `previous` docs on the same themes."""
    if len(docs) < 4:
        return []
    vectorizer = TfidfVectorizer(
        stop_words="english",
        ngram_range=(1, 2),
        min_df=2,
        max_df=0.5,
        sublinear_tf=True,
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b",
    )
    try:
        X = vectorizer.fit_transform([d.text for d in docs])
    except ValueError:  # no term appears twice
        return []
    k = min(n_themes or choose_k(len(docs)), X.shape[1], len(docs))
    model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=400)
    W = model.fit_transform(X)
    H = model.components_
    terms = np.asarray(vectorizer.get_feature_names_out())
    assigned = np.where(W.max(axis=1) > 0, W.argmax(axis=1), -1)
    before = np.zeros(k, dtype=int)
    if previous:
        Wp = model.transform(vectorizer.transform([d.text for d in previous]))
        hit = Wp.max(axis=1) > 0
        before = np.bincount(Wp.argmax(axis=1)[hit], minlength=k)
    themes = []
    for t in range(k):
        members = np.flatnonzero(assigned == t)
        if members.size == 0:
            continue
        top = [str(x) for x in terms[np.argsort(H[t])[::-1][:TOP_TERMS]]]
        label = " / ".join(_label_terms(top))
        order = members[np.argsort(W[members, t])[::-1]]
        examples: list[str] = []
        for i in order:
            if docs[i].text not in examples:
                examples.append(docs[i].text)
            if len(examples) == EXAMPLES:
                break
        member_docs = [docs[i] for i in members]
        tone = float(np.mean([compound(d.text) for d in member_docs]))
        themes.append(
            Theme(
                label=label,
                terms=top,
                docs=member_docs,
                previous=int(before[t]),
                tone=round(tone, 3),
                examples=examples,
                accounts=sorted({d.account_id for d in member_docs}),
            )
        )
    themes.sort(key=lambda th: -th.volume)
    return themes


def _label_terms(top: list[str]) -> list[str]:
    """The first few top terms, skipping a unigram already inside a chosen bigram."""
    chosen: list[str] = []
    for term in top:
        if any(term in other.split() or other in term.split() for other in chosen):
            continue
        chosen.append(term)
        if len(chosen) == LABEL_TERMS:
            break
    return chosen
