"""Our extractive summarizer vs Lead-3, on human-written summaries first and BBC second, at 3 sentences.

1. Human references (the target): ../shared/evaldata/human_summaries/frank_cnndm_test.jsonl,
   243 CNN/Daily Mail articles with the journalists' highlights. Scored as outside
   evaluation does (evaldata/README.md): ROUGE-1/2/L F1 with baseline_rouge.py's
   tokenizer and functions (lowercase [a-z0-9]+, no stemming), best over an
   article's references, macro-averaged; Lead-3 = the first 3 sentences by the
   evaldata splitter, on the same articles, side by side. The summarizer's six
   constants were chosen on this set, so the table shows it per fold as well:
   `fold A` figures use the constants chosen on fold B alone and vice versa
   (bench/fit_summarizer.py), which are the honest, cross-validated ones.
2. Publishers' own summaries (a second human line, nothing tuned on it): the `lead` (the page's
   description) of the 383 articles in ../shared/evaldata/story_clusters, against the text an
   extractor took from the page, title given; about 100 of our summaries there were read while
   writing the furniture rules (digest/summarize/furniture.py), so it is not unseen text.
3. BBC News Summary (a regression line only): its references are machine-made
   (TextRank-like, 40% of sentences), so a change that moves only this line is noise.

Outside evaluation may stem words (rouge-score's use_stemmer=True): where the `rouge-score` package is installed
(a test/bench-only extra, nothing at run time needs it), the human-reference table has a second block scored so:
rouge-score's own tokenizer and Porter stemmer, ROUGE-L over the whole text, same best-of-references macro average.

Reads ../shared/evaldata beside the repo root (never copied into the repo).
Run: .venv/bin/python bench/summaries.py [--sentences 3] [--no-bbc]

For a blind read end to end (issue 29): `--end-to-end SEED START COUNT` prints, instead of the tables, the
summaries of pages START..START+COUNT of each outside extraction set (Dragnet; trafilatura-eval pages that declare
English), ordered by sha1(SEED + id), each page -> digest.gather.extract -> summarize, title from <title>; the
reader counts by eye the summaries that carry furniture or a sentence leaning on a skipped one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from pathlib import Path

from digest.summarize.extractive import summarize

REPO = Path(__file__).resolve().parent.parent
EVALDATA = REPO.parent / "shared" / "evaldata"
HUMAN = EVALDATA / "human_summaries" / "frank_cnndm_test.jsonl"
PUBLISHERS = EVALDATA / "story_clusters" / "giveme5w1h.jsonl"


def evaldata():
    """The shared loader and ROUGE modules, or exit with a clear message."""
    if not (EVALDATA / "baseline_rouge.py").exists():
        sys.exit(f"bench/summaries.py: evaluation data not found at {EVALDATA} "
                 "(expected ../shared/evaldata beside the repo root); nothing to measure.")
    if str(EVALDATA) not in sys.path:
        sys.path.insert(0, str(EVALDATA))
    import baseline_rouge
    import load_bbc_news_summary
    return load_bbc_news_summary, baseline_rouge


def fold(doc_id: str) -> str:
    """A fixed half of the articles by hash of the id: 'A' or 'B' (the cross-validation folds)."""
    return "AB"[int(hashlib.sha1(doc_id.encode("utf-8")).hexdigest(), 16) % 2]


def human_documents() -> list[tuple[str, str, list[str]]]:
    """(id, article, references) of the human-summary dev set."""
    evaldata()
    with HUMAN.open(encoding="utf-8") as f:
        return [(row["id"], row["article"], row["references"]) for row in map(json.loads, f)]


def publisher_documents() -> list[tuple[str, str, list[str], str]]:
    """(id, page text, [the publisher's own description], title) of the story-cluster articles."""
    with PUBLISHERS.open(encoding="utf-8") as f:
        return [(row["id"], row["text"], [row["lead"]], row["title"]) for row in map(json.loads, f)]


def bbc_documents() -> list[tuple[str, str, list[str]]]:
    """(id, body, [reference]) of BBC News Summary, exact duplicate articles dropped; the title is not used."""
    loader, _ = evaldata()
    seen, docs = set(), []
    for doc_id, article, reference in loader.iter_pairs():
        digest = hashlib.md5(article.encode("utf-8")).hexdigest()
        if digest not in seen:
            seen.add(digest)
            docs.append((doc_id, loader.split_title(article)[1], [reference]))
    return docs


def lead(docs, sentences: int = 3) -> list[list[str]]:
    loader, _ = evaldata()
    return [loader.split_sentences(doc[1])[:sentences] for doc in docs]


def ours(docs, sentences: int = 3, summarizer=summarize) -> list[list[str]]:
    return [summarizer(text, max_sentences=sentences) for _, text, _ in docs]


def score(docs, picks) -> dict[str, float]:
    """Macro ROUGE-1/2/L F1 (x100), best over each article's references, and mean words per summary."""
    _, rouge = evaldata()
    totals = dict.fromkeys(("rouge1", "rouge2", "rougeL", "words"), 0.0)
    for doc, sentences in zip(docs, picks):
        references = doc[2]
        text = " ".join(sentences)
        pred = rouge.tokenize(text)
        best = [0.0, 0.0, 0.0]
        for reference in references:
            ref = rouge.tokenize(reference)
            found = (rouge.rouge_n(pred, ref, 1), rouge.rouge_n(pred, ref, 2), rouge.rouge_l(pred, ref))
            best = [max(a, b) for a, b in zip(best, found)]
        for key, value in zip(("rouge1", "rouge2", "rougeL"), best):
            totals[key] += 100 * value
        totals["words"] += len(text.split())
    return {k: v / max(len(docs), 1) for k, v in totals.items()}


def stemmed_score(docs, picks) -> dict[str, float] | None:
    """As score(), with rouge-score's tokenizer and Porter stemmer; None where the package is not installed."""
    try:
        from rouge_score import rouge_scorer
    except ImportError:
        return None
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    totals = dict.fromkeys(("rouge1", "rouge2", "rougeL", "words"), 0.0)
    for doc, sentences in zip(docs, picks):
        text = " ".join(sentences)
        found = [scorer.score(reference, text) for reference in doc[2]]
        for key in ("rouge1", "rouge2", "rougeL"):
            totals[key] += 100 * max(f[key].fmeasure for f in found)
        totals["words"] += len(text.split())
    return {k: v / max(len(docs), 1) for k, v in totals.items()}


def articles_per_second(docs, sentences: int, min_seconds: float = 2.0) -> tuple[float, float]:
    """(articles per wall-clock second, articles per CPU-second of this process): on a shared machine the second
    moves less with other load."""
    done, started, cpu = 0, time.perf_counter(), time.process_time()
    while True:
        for _, text, _ in docs:
            summarize(text, max_sentences=sentences)
        done += len(docs)
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds:
            return done / elapsed, done / max(time.process_time() - cpu, 1e-9)


def table(title: str, rows) -> None:
    print(title)
    print(f"  {'system':30} {'ROUGE-1':>8} {'ROUGE-2':>8} {'ROUGE-L':>8} {'words':>6}")
    for label, s in rows:
        print(f"  {label:30} {s['rouge1']:8.2f} {s['rouge2']:8.2f} {s['rougeL']:8.2f} {s['words']:6.1f}")


def end_to_end(seed: str, start: int, count: int, sentences: int) -> None:
    """Print end-to-end summaries of outside pages, in a reproducible order (see the module's docstring)."""
    import gzip
    import html

    from digest.gather.extract import extract_text
    title_tag = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
    for name in ("dragnet", "trafilatura-eval"):
        with gzip.open(EVALDATA / "outside_extraction" / f"{name}.jsonl.gz", "rt", encoding="utf-8") as f:
            rows = [row for row in map(json.loads, f) if name == "dragnet" or row.get("lang") == "en"]
        rows.sort(key=lambda row: hashlib.sha1((seed + row["id"]).encode()).hexdigest())
        for rank, row in enumerate(rows[start:start + count], start):
            found = title_tag.search(row["html"])
            title = " ".join(html.unescape(found.group(1)).split()) if found else None
            text = extract_text(row["html"], row.get("url")) or ""
            print(f"=== {name} {rank} {row['id']} | {title}")
            for sentence in summarize(text, title=title, max_sentences=sentences):
                print(f"  * {sentence}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sentences", type=int, default=3)
    parser.add_argument("--no-bbc", action="store_true", help="skip the BBC regression line")
    parser.add_argument("--end-to-end", nargs=3, metavar=("SEED", "START", "COUNT"),
                        help="print end-to-end summaries of outside pages for a blind read, instead of the tables")
    args = parser.parse_args()
    k = args.sentences
    if args.end_to_end:
        seed, start, count = args.end_to_end
        end_to_end(seed, int(start), int(count), k)
        return 0
    docs = human_documents()
    picks, leads = ours(docs, k), lead(docs, k)
    rows, stemmed = [], []
    for name, keep in (("all", None), ("fold A", "A"), ("fold B", "B")):
        idx = [i for i, d in enumerate(docs) if keep is None or fold(d[0]) == keep]
        sub = [docs[i] for i in idx]
        rows.append((f"Lead-{k}, {name} ({len(sub)})", score(sub, [leads[i] for i in idx])))
        rows.append((f"ours, {name} (in-sample)", score(sub, [picks[i] for i in idx])))
        for label, chosen in ((f"Lead-{k}, {name} ({len(sub)})", leads), (f"ours, {name} (in-sample)", picks)):
            found = stemmed_score(sub, [chosen[i] for i in idx])
            if found is not None:
                stemmed.append((label, found))
    table(f"Human-written references (CNN/DM journalists' highlights), {k} sentences, F1 x100; 'in-sample': "
          "the shipped constants were chosen on these articles", rows)
    if stemmed:
        table("  The same, scored by rouge-score with its Porter stemmer (use_stemmer=True):", stemmed)
    else:
        print("  (rouge-score not installed: no stemmed figures)")
    rate, cpu_rate = articles_per_second(docs, k)
    print(f"  ours: {rate:.0f} articles/s wall clock, {cpu_rate:.0f} per CPU-second (summarize() only, {len(docs)} "
          "articles, repeated >= 2 s, one core)")
    print("  Cross-validated figures (each fold scored with the constants chosen on the other fold alone): "
          "run bench/fit_summarizer.py")
    if PUBLISHERS.exists():
        pub = publisher_documents()
        mine = [summarize(text, title=title, max_sentences=k) for _, text, _, title in pub]
        table(f"\nPublishers' own summaries (story_clusters leads), {len(pub)} articles, title given:",
              [(f"Lead-{k} (evaldata splitter)", score(pub, lead(pub, k))), ("ours", score(pub, mine))])
    if not args.no_bbc:
        bbc = bbc_documents()
        table(f"\nBBC News Summary, regression line only (machine-made references), {len(bbc)} articles:",
              [(f"Lead-{k} (evaldata splitter)", score(bbc, lead(bbc, k))), ("ours", score(bbc, ours(bbc, k)))])
    return 0


if __name__ == "__main__":
    sys.exit(main())
