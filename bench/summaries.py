"""Our extractive summarizer vs Lead-3 on the BBC News Summary data, at equal length (3 sentences).

Reads ../shared/evaldata (beside the repo root; never copied into the repo) with
its own loader and ROUGE code. Exact-duplicate articles are dropped; the default
split is the held-out one that bench/fit_summarizer.py never learns from
(digest.summarize.model.held_out). Prints ROUGE-1/2/L F1 (x100, macro),
sentence precision (share of chosen sentences found verbatim in the human
extractive summary), mean summary length, and our articles per second on one core.

Run: .venv/bin/python bench/summaries.py [--split test|train|all] [--sentences 3] [--no-lead-prior]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

from digest.summarize import model as summarize_model
from digest.summarize.extractive import summarize
from digest.summarize.model import held_out

REPO = Path(__file__).resolve().parent.parent
EVALDATA = REPO.parent / "shared" / "evaldata"
_CLOSERS = "\"'”’"


def evaldata():
    """The shared loader and ROUGE modules, or exit with a clear message."""
    if not (EVALDATA / "load_bbc_news_summary.py").exists():
        sys.exit(f"bench/summaries.py: evaluation data not found at {EVALDATA} "
                 "(expected ../shared/evaldata beside the repo root); nothing to measure.")
    if str(EVALDATA) not in sys.path:
        sys.path.insert(0, str(EVALDATA))
    import baseline_rouge
    import load_bbc_news_summary
    return load_bbc_news_summary, baseline_rouge


def load_documents(split: str = "test") -> list[tuple[str, str, str, str, str]]:
    """(doc_id, raw article, title, body, reference) for one split, exact duplicates dropped."""
    loader, _ = evaldata()
    seen: set[str] = set()
    docs = []
    for doc_id, article, reference in loader.iter_pairs():
        digest = hashlib.md5(article.encode("utf-8")).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        if split == "all" or held_out(doc_id) == (split == "test"):
            title, body = loader.split_title(article)
            docs.append((doc_id, article, title, body, reference))
    return docs


def in_reference(sentence: str, reference: str) -> bool:
    """Whether a chosen sentence is one of the reference's (which glues sentences: "...bn.For the...")."""
    sentence = " ".join(sentence.split())
    return sentence in reference or sentence.rstrip(_CLOSERS) in reference


def ours(docs, sentences: int = 3):
    return [summarize(body, title=title, max_sentences=sentences) for _, _, title, body, _ in docs]


def score(docs, picks) -> dict[str, float]:
    _, rouge = evaldata()
    totals = dict.fromkeys(("rouge1", "rouge2", "rougeL", "words"), 0.0)
    hits = chosen = 0
    for (_, _, _, _, reference), sentences in zip(docs, picks):
        pred, ref = rouge.tokenize(" ".join(sentences)), rouge.tokenize(reference)
        totals["rouge1"] += rouge.rouge_n(pred, ref, 1)
        totals["rouge2"] += rouge.rouge_n(pred, ref, 2)
        totals["rougeL"] += rouge.rouge_l(pred, ref)
        totals["words"] += len(" ".join(sentences).split())
        hits += sum(in_reference(s, reference) for s in sentences)
        chosen += len(sentences)
    result = {k: v / len(docs) for k, v in totals.items()}
    result["precision"] = hits / chosen if chosen else 0.0
    return result


def articles_per_second(docs, sentences: int, min_seconds: float = 2.0) -> float:
    done, started = 0, time.perf_counter()
    while True:
        for _, _, title, body, _ in docs:
            summarize(body, title=title, max_sentences=sentences)
        done += len(docs)
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds:
            return done / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=("test", "train", "all"), default="test")
    parser.add_argument("--sentences", type=int, default=3)
    parser.add_argument("--no-lead-prior", action="store_true",
                        help="also show the fitted weights alone (LEAD_PRIOR = 0), to see what the lede costs here")
    args = parser.parse_args()
    docs = load_documents(args.split)
    loader, _ = evaldata()
    name = {"test": "held-out split (never used for fitting)", "train": "training split", "all": "all"}[args.split]
    print(f"BBC News Summary, {name}: {len(docs)} articles (exact duplicates dropped), "
          f"{args.sentences} sentences each")
    lead = [loader.split_sentences(body)[:args.sentences] for _, _, _, body, _ in docs]
    rows = [(f"Lead-{args.sentences} (evaldata splitter)", lead),
            ("ours (digest.summarize.extractive)", ours(docs, args.sentences))]
    if args.no_lead_prior:
        shipped, summarize_model.LEAD_PRIOR = summarize_model.LEAD_PRIOR, 0.0
        rows.append(("ours without the lead prior", ours(docs, args.sentences)))
        summarize_model.LEAD_PRIOR = shipped
    print(f"{'system':34} {'ROUGE-1':>8} {'ROUGE-2':>8} {'ROUGE-L':>8} {'sent.prec':>9} {'words':>6}")
    for label, picks in rows:
        s = score(docs, picks)
        print(f"{label:34} {100 * s['rouge1']:8.2f} {100 * s['rouge2']:8.2f} {100 * s['rougeL']:8.2f} "
              f"{s['precision']:9.3f} {s['words']:6.1f}")
    rate = articles_per_second(docs, args.sentences)
    print(f"ours: {rate:.0f} articles/s on one core (summarize() only, {len(docs)} articles, repeated >= 2 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
