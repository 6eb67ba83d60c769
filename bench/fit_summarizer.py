"""Fit the summarizer's sentence weights on the BBC News Summary training split; rewrite digest/summarize/model.py.

A sentence's label is whether the human extractive summary contains it. The
model is an L2-regularised logistic regression over digest.summarize.extractive's
sentence_features(), fitted by Newton's method in plain Python (numpy is not
needed). Only the training split is read (digest.summarize.model.held_out(id)
is False); bench/summaries.py reports on the rest.

The lead prior is not fitted. BBC's reference summaries rank sentences by
centrality (they list them in score order, not article order), so a model
fitted to them alone learns to ignore position and would skip the lede of a
real story. summarize() therefore adds LEAD_PRIOR / sqrt(index + 1) to the
fitted log-odds, and this script sets LEAD_PRIOR to the smallest value (steps
of 0.5) that keeps the first sentence in at least LEDE_SHARE of the training
summaries under 2-fold cross-validation. Everything it prints comes from the
training split only.

Run: .venv/bin/python bench/fit_summarizer.py [--dry-run]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from summaries import REPO, in_reference, load_documents

from digest.summarize.extractive import (
    FEATURES,
    _is_prose,
    _sentences_with_breaks,
    sentence_features,
)

L2 = 1.0  # on standardised features, summed (not averaged) log-loss
LEDE_SHARE = 0.75  # the first sentence is in at least this share of summaries

TEMPLATE = '''"""Learned weights of the extractive summarizer (digest/summarize/extractive.py). Generated file: do not edit.

Regenerate with `.venv/bin/python bench/fit_summarizer.py`. WEIGHTS and BIAS: a
logistic regression (L2 = {l2}) predicting whether a sentence is in the reference
summary, fitted on the {articles} training articles ({sentences} sentences) of BBC
News Summary for which held_out() is False, exact duplicates dropped.
LEAD_PRIOR is not fitted: summarize() adds LEAD_PRIOR / sqrt(index + 1) so the
lede stays in (the smallest value keeping the first sentence in {share:.0%} of the
training summaries; see the fitting script). bench/summaries.py scores on the rest.
"""

import hashlib

FEATURES = (
{features})
WEIGHTS = (
{weights})
BIAS = {bias!r}
LEAD_PRIOR = {lead!r}


def held_out(doc_id: str) -> bool:
    """The evaluation articles these weights never saw: a fixed 40% of ids, by hash."""
    return int(hashlib.sha1(doc_id.encode("utf-8")).hexdigest(), 16) % 5 < 2
'''


def dataset(docs):
    """Per article: (feature rows, labels), with the same filtering summarize() applies."""
    out = []
    for _, _, title, body, reference in docs:
        units = [(s, br) for s, br in _sentences_with_breaks(body) if _is_prose(s)]
        if len(units) < 2:
            continue
        sentences = [s for s, _ in units]
        rows = sentence_features(sentences, [br for _, br in units], title)
        out.append((rows, [1.0 if in_reference(s, reference) else 0.0 for s in sentences]))
    return out


def solve(a, b):
    """Gaussian elimination with partial pivoting: a x = b."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(col + 1, n):
            f = m[r][col] / m[col][col]
            if f:
                for c in range(col, n + 1):
                    m[r][c] -= f * m[col][c]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - sum(m[r][c] * x[c] for c in range(r + 1, n))) / m[r][r]
    return x


def fit(data, l2: float = L2, iterations: int = 25):
    """Weights and bias in the original feature scale."""
    rows = [row for article_rows, _ in data for row in article_rows]
    labels = [y for _, ys in data for y in ys]
    k = len(rows[0])
    mean = [sum(r[j] for r in rows) / len(rows) for j in range(k)]
    scale = [math.sqrt(sum((r[j] - mean[j]) ** 2 for r in rows) / len(rows)) or 1.0 for j in range(k)]
    xs = [[1.0] + [(r[j] - mean[j]) / scale[j] for j in range(k)] for r in rows]
    w = [0.0] * (k + 1)
    for _ in range(iterations):
        grad = [0.0] * (k + 1)
        hess = [[0.0] * (k + 1) for _ in range(k + 1)]
        for x, y in zip(xs, labels):
            z = sum(a * b for a, b in zip(w, x))
            p = 1.0 / (1.0 + math.exp(-z)) if z > -30 else 0.0
            g, h = p - y, p * (1 - p)
            for a in range(k + 1):
                grad[a] += g * x[a]
                ha, row = h * x[a], hess[a]
                for b in range(a, k + 1):
                    row[b] += ha * x[b]
        for a in range(k + 1):
            for b in range(a):
                hess[a][b] = hess[b][a]
            if a:  # no penalty on the intercept
                grad[a] += l2 * w[a]
                hess[a][a] += l2
        step = solve(hess, grad)
        w = [a - b for a, b in zip(w, step)]
        if max(abs(s) for s in step) < 1e-7:
            break
    weights = [w[j + 1] / scale[j] for j in range(k)]
    bias = w[0] - sum(weights[j] * mean[j] for j in range(k))
    return weights, bias


def top3(data, weights, bias, lead: float = 0.0, count: int = 3) -> tuple[float, float]:
    """(sentence precision, share of articles whose first sentence is chosen) of the top `count`."""
    hits = chosen = ledes = 0
    for rows, labels in data:
        scores = [bias + sum(a * b for a, b in zip(weights, r)) + lead / math.sqrt(i + 1) for i, r in enumerate(rows)]
        top = sorted(range(len(rows)), key=lambda i: -scores[i])[:count]
        hits += sum(labels[i] for i in top)
        chosen += len(top)
        ledes += 0 in top
    return hits / chosen, ledes / len(data)


def cross_validate(folds, fits, lead: float) -> tuple[float, float]:
    results = [top3(folds[1 - f], *fits[f], lead) for f in (0, 1)]
    sizes = [len(folds[1 - f]) for f in (0, 1)]
    return tuple(sum(r[k] * n for r, n in zip(results, sizes)) / sum(sizes) for k in (0, 1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="cross-validate and print, do not write the model")
    args = parser.parse_args()
    docs = load_documents("train")
    data = dataset(docs)
    first3 = top3([([[-float(i)] for i in range(len(ys))], ys) for _, ys in data], [1.0], 0.0)[0]
    print(f"training split: {len(docs)} articles, {sum(len(ys) for _, ys in data)} sentences; "
          f"first 3 prose sentences: sentence precision {first3:.3f}")
    folds = [data[0::2], data[1::2]]
    fits = [fit(fold) for fold in folds]
    lead = 0.0
    while True:
        precision, ledes = cross_validate(folds, fits, lead)
        print(f"2-fold CV, lead prior {lead:4.1f}: top-3 sentence precision {precision:.3f}, lede kept {ledes:.2f}")
        if ledes >= LEDE_SHARE or lead >= 20:
            break
        lead += 0.5
    weights, bias = fit(data)
    for name, weight in zip(FEATURES, weights):
        print(f"  {name:18} {weight:+.4f}")
    print(f"  {'(bias)':18} {bias:+.4f}")
    print(f"  {'(lead prior)':18} {lead:+.4f}")
    if args.dry_run:
        return 0
    text = TEMPLATE.format(
        l2=L2, articles=len(docs), sentences=sum(len(ys) for _, ys in data),
        features="".join(f'    "{name}",\n' for name in FEATURES),
        weights="".join(f"    {weight:.6f},  # {name}\n" for name, weight in zip(FEATURES, weights)),
        bias=round(bias, 6), lead=lead, share=LEDE_SHARE)
    target = REPO / "digest" / "summarize" / "model.py"
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
