"""Choose the extractive summarizer's one constant, the word stop, with cross-validation on human-written summaries.

Two families of human references (bench/summaries.py): 243 CNN/DM articles with
journalists' highlights (about 55 words each) and 383 story-cluster articles
with the publisher's own summary (about 26 words). For each word stop on the
grid the script prints the margins over Lead-3 on each family (in-sample), then
two cross-validated figures:

- K folds by hash of the id within a family: each fold is scored with the stop
  chosen (by ROUGE-1 + ROUGE-2 + ROUGE-L) on the other K - 1 folds;
- by family: the stop chosen on one family, scored on the other. This is the
  test that matters for pages nobody here has seen, and it says plainly that the
  two families want different lengths.

The shipped stop (digest.summarize.extractive.WORDS) is the grid point with the
largest smallest margin over Lead-3 across both families: chosen on both, so
its figures are in-sample for both, and printed as such. Nothing is rewritten:
copy the printed stop by hand.

Run: .venv/bin/python bench/fit_summarizer.py [--folds 10]
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from summaries import human_documents, lead, publisher_documents, score  # noqa: E402

from digest.summarize.extractive import WORDS, choose  # noqa: E402
from digest.summarize.apart import teaser  # noqa: E402
from digest.summarize.split import units  # noqa: E402

GRID = (0, 50, 60, 70, 80, 90, 100)  # 0: no stop, three sentences whatever their length
KEYS = ("rouge1", "rouge2", "rougeL")


def summaries(found_units, words: int) -> list[list[str]]:
    """What digest.summarize.extractive.summarize would return with this stop, for pre-split articles."""
    out = []
    for found in found_units:
        if len(found) <= 2 or not any(u.prose for u in found):
            out.append(teaser(found, 3))
        else:
            out.append(choose(found, 3, words))
    return out


def fold_of(doc_id: str, folds: int) -> int:
    return int(hashlib.sha1(doc_id.encode("utf-8")).hexdigest(), 16) % folds


def standard_error(values: list[float]) -> float:
    n = len(values)
    mean = sum(values) / n
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1) / n) if n > 1 else 0.0


def margins(per_article: list[dict], leads: list[dict], idx) -> dict[str, float]:
    return {k: sum(per_article[i][k] - leads[i][k] for i in idx) / max(len(idx), 1) for k in KEYS}


def line(label: str, m: dict[str, float], words: float | None = None, extra: str = "") -> str:
    tail = f" {words:6.1f}" if words is not None else " " * 7
    return f"  {label:34} " + " ".join(f"{m[k]:+7.2f}" for k in KEYS) + tail + extra


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=int, default=10, help="folds by hash of the id within each family")
    args = parser.parse_args()
    families = {"CNN/DM highlights": human_documents(), "publishers' summaries": publisher_documents()}
    results = {}  # family -> (per-article Lead-3 scores, {stop: per-article scores}, {stop: mean words})
    for name, docs in families.items():
        found = [units(doc[1], doc[3] if len(doc) > 3 else None) for doc in docs]
        leads = [score([d], [p]) for d, p in zip(docs, lead(docs))]
        per_stop, words = {}, {}
        for stop in GRID:
            picks = summaries(found, stop)
            per_stop[stop] = [score([d], [p]) for d, p in zip(docs, picks)]
            words[stop] = sum(len(" ".join(p).split()) for p in picks) / len(docs)
        results[name] = (leads, per_stop, words)

    print(f"{'':36} {'ROUGE-1':>7} {'ROUGE-2':>7} {'ROUGE-L':>7}  words   (margins over Lead-3, same articles)")
    for name, docs in families.items():
        leads, per_stop, words = results[name]
        everything = range(len(docs))
        base = {k: sum(r[k] for r in leads) / len(docs) for k in KEYS}
        print(f"{name} ({len(docs)}), Lead-3 " + "/".join(f"{base[k]:.2f}" for k in KEYS))
        for stop in GRID:
            print(line(f"stop {stop or 'none'} (in-sample)", margins(per_stop[stop], leads, everything), words[stop],
                       "   <- shipped" if stop == WORDS else ""))
        folds = [fold_of(d[0], args.folds) for d in docs]
        cv = {k: [0.0] * len(docs) for k in KEYS}
        picked = []
        for f in range(args.folds):
            train = [i for i in everything if folds[i] != f]
            best = max(GRID, key=lambda s: sum(margins(per_stop[s], leads, train).values()))
            picked.append(best)
            for i in everything:
                if folds[i] == f:
                    for k in KEYS:
                        cv[k][i] = per_stop[best][i][k] - leads[i][k]
        mean = {k: sum(v) / len(v) for k, v in cv.items()}
        print(line(f"{args.folds}-fold cross-validated", mean, None,
                   "   s.e. " + "/".join(f"{standard_error(cv[k]):.2f}" for k in KEYS) + f"; stops chosen {picked}"))

    print("\nBy family (the stop chosen on one family by ROUGE-1+2+L, scored on the other):")
    names = list(families)
    for chosen_on, scored_on in ((names[0], names[1]), (names[1], names[0])):
        leads, per_stop, _ = results[chosen_on]
        everything = range(len(leads))
        best = max(GRID, key=lambda s: sum(margins(per_stop[s], leads, everything).values()))
        leads2, per_stop2, words2 = results[scored_on]
        print(line(f"{scored_on}, stop {best} from {chosen_on.split()[0]}",
                   margins(per_stop2[best], leads2, range(len(leads2))), words2[best]))

    def smallest(stop: int) -> float:
        return min(min(margins(results[n][1][stop], results[n][0], range(len(results[n][0]))).values()) for n in names)

    best = max(GRID, key=smallest)
    print(f"\nLargest smallest margin over both families (in-sample for both): stop {best} ({smallest(best):+.2f}); "
          f"shipped WORDS = {WORDS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
