"""Article-extraction quality and speed: trafilatura alone vs digest.gather.extract.extract_text.

Uses the article-extraction benchmark (Zyte/scrapinghub) kept outside the repo in
../shared/evaldata/article_extraction, with that folder's own loader and scoring
(4-word shingles of \\w+ tokens, case kept, punctuation and spacing ignored, repeats
counted; precision and recall averaged over pages; F1 of the averages). Nothing from
it is copied here. Every system gets the same HTML and page URL.

Figures, kept apart because they mean different things:
1. dev-all: every dev page. The extractor was written and tuned looking at these
   pages, so this is an in-sample figure.
2. per fold, side by side: the methods of the rounds before ("round 1": all of
   rounds two and three's rules off; "round 2": round three's rules off) and the
   shipped one (round 3), each round-three rule alone on top of round 2, and each
   round-two rule alone on top of round 1. Folds A and B are fixed halves by a hash
   of the page's site; rounds 1 and 2 were designed on fold A, round 3 on fold B.
3. cross-validated: each fold scored with the settings that win on the other
   fold alone, out of a fixed menu (ties go to the earlier entry: round 3 first).
4. residual errors of the shipped method by kind, per fold (share of the
   per-page normalised shingle mass): extra whole paragraphs (furniture kept),
   extra words inside kept paragraphs, missed whole paragraphs, missed words
   inside paragraphs, and the rest (shingles across paragraph joins, spacing).
5. --others: readability-lxml, jusText, goose3 and boilerpy3 alone (if
   installed), a paragraph vote with them, and JSON-LD articleBody, per fold.
6. speed: pages/s on one core, and two hostile 3 MB pages.

Run: .venv/bin/python bench/extraction.py [evaldata-dir] [--others]
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import lxml.etree
import lxml.html
import trafilatura

from digest.gather.combine import FRAGMENT_RATIO
from digest.gather.extract import extract_paragraphs, extract_text

REPO = Path(__file__).resolve().parents[1]
EVALDATA = REPO.parent / "shared" / "evaldata"

ROUND2 = {"teaser_links": False, "captions": False, "notices": False, "embedded_posts": False,
          "closing_teasers": False}
ROUND1 = {**ROUND2, "fragment": 0, "hover_cards": False, "metadata_lines": False, "teaser_headings": False}
RULES = [("hover cards pruned", {"hover_cards": True}), ("time stamps, credit lines", {"metadata_lines": True}),
         ("teaser lists (linked headings)", {"teaser_headings": True}),
         ("fragment gives way (REJECTED)", {"fragment": FRAGMENT_RATIO})]
RULES3 = [("teaser links (REJECTED)", {"teaser_links": True}),
          ("captions (= an image's alt)", {"captions": True}),
          ("wire credits, notices (REJECTED)", {"notices": True}),
          ("embedded tweets kept", {"embedded_posts": True}),
          ("closing list of teasers (REJECTED)", {"closing_teasers": True})]
# The menu the cross-validation chooses from: (label, keyword arguments of extract_paragraphs).
SETTINGS = [("one reading", {"precision": False})] + [
    (f"two readings, short<{words}, lists {'kept' if lists else 'trimmed'}", {"short_words": words, "protect_lists": lists})
    for words in (15, 30, 60) for lists in (True, False)]
MENU = [(f"round 3, {label}", options) for label, options in SETTINGS] + [
    (f"round 2, {label}", {**ROUND2, **options}) for label, options in SETTINGS]
_WORD = re.compile(r"\w+")


def load_benchmark(evaldata: Path):
    if not (evaldata / "load_article_extraction.py").exists():
        sys.exit(f"no article-extraction benchmark at {evaldata} (expected load_article_extraction.py there)")
    sys.path.insert(0, str(evaldata))
    import load_article_extraction  # noqa: PLC0415 - found only at run time, outside the repo

    return load_article_extraction


def site_fold(url: str | None) -> int:
    """0 or 1 by a hash of the host without www.: a site's pages always share a fold."""
    host = (urlparse(url or "").netloc or "").lower().removeprefix("www.")
    return int(hashlib.sha256(host.encode()).hexdigest(), 16) % 2


def per_page(bench, predictions: dict, truth: dict) -> dict:
    """{page_id: (precision, recall)} by the benchmark's own per-page counts."""
    return {k: (bench._prec(*c), bench._rec(*c))
            for k in truth for c in [bench.page_counts(truth[k], predictions.get(k, ""))]}


def pooled(scores: dict, ids) -> tuple[float, float, float]:
    """Precision and recall averaged over pages, F1 of the averages (the benchmark's score)."""
    ids = list(ids)
    p = sum(scores[i][0] for i in ids) / len(ids)
    r = sum(scores[i][1] for i in ids) / len(ids)
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def row(name: str, p: float, r: float, f1: float, n: int, extra: str = "") -> None:
    print(f"{name:58s} {p:.3f}  {r:.3f}  {f1:.3f}  {n:5d}  {extra}")


def run(name: str, extract: Callable[[str, str], str], pages, truth, bench) -> dict:
    started = time.perf_counter()
    predictions = {page_id: extract(html, url) or "" for page_id, html, url in pages}
    seconds = time.perf_counter() - started
    m = bench.score(predictions, truth)
    row(name, m["precision"], m["recall"], m["f1"], len(pages), f"{len(pages) / seconds:6.1f} pages/s")
    return predictions


def predict(pages, **options) -> dict:
    return {page_id: "\n\n".join(extract_paragraphs(html, url, **options)) for page_id, html, url in pages}


def side_by_side(systems: dict[str, dict], folds: dict) -> None:
    """One line per system: P/R/F1 on fold A, fold B and both."""
    print(f"{'':56s} {'fold A P/R/F1':>22s}   {'fold B P/R/F1':>22s}   {'all P/R/F1':>22s}")
    for name, scores in systems.items():
        cells = [pooled(scores, [i for i in folds if folds[i] in which]) for which in ({0}, {1}, {0, 1})]
        print(f"{name:56s} " + "   ".join(f"{p:.4f}/{r:.4f}/{f:.4f}" for p, r, f in cells))


def cross_validate(table: dict, folds: dict) -> None:
    held_out = {}
    for fold in (0, 1):
        train = [i for i in folds if folds[i] != fold]
        test = [i for i in folds if folds[i] == fold]
        chosen = max(table, key=lambda label: pooled(table[label], train)[2])
        held_out.update({i: table[chosen][i] for i in test})
        p, r, f1 = pooled(table[chosen], test)
        row(f"fold {'AB'[fold]} ({len(test)} pages), settings chosen on fold {'BA'[fold]}", p, r, f1, len(test),
            f"chosen: {chosen}")
    p, r, f1 = pooled(held_out, held_out)
    row("CROSS-VALIDATED held-out estimate (both folds pooled)", p, r, f1, len(held_out))
    print("menu on all dev pages (in-sample, for reference):")
    for label in table:
        row(f"  {label}", *pooled(table[label], table[label]), len(table[label]))


def _shingles(text: str) -> Counter:
    words = _WORD.findall(text)
    return Counter(tuple(words[i:i + 4]) for i in range(len(words) - 3))


def error_kinds(prediction: str, truth: str) -> Counter:
    """The page's normalised false-positive and false-negative mass, by kind (see the module docstring)."""
    want, got = _shingles(truth), _shingles(prediction)
    total = sum((want | got).values()) or 1
    kinds = Counter()
    for side, text, other, wrong in (("extra", prediction, want, got - want), ("missed", truth, got, want - got)):
        placed = 0
        for paragraph in text.split("\n"):
            counts = _shingles(paragraph)
            absent = sum(n for s, n in counts.items() if s not in other)
            if absent:
                whole = absent >= 0.8 * sum(counts.values())
                kinds[f"{side} {'whole paragraphs' if whole else 'words in paragraphs'}"] += absent / total
                placed += absent
        kinds["joins, spacing, repeats"] += max(0, sum(wrong.values()) - placed) / total
    return kinds


def residual_errors(predictions: dict, truth: dict, folds: dict) -> None:
    labels = ["extra whole paragraphs", "extra words in paragraphs", "missed whole paragraphs",
              "missed words in paragraphs", "joins, spacing, repeats"]
    print("  " + " | ".join(labels))
    for fold in (0, 1):
        ids = [i for i in folds if folds[i] == fold]
        kinds = sum((error_kinds(predictions[i], truth[i]) for i in ids), Counter())
        print(f"  fold {'AB'[fold]}: " + " | ".join(f"{kinds[label] / len(ids):.4f}" for label in labels))


def json_ld_body(html: str) -> str:
    """The longest schema.org articleBody in the page's JSON-LD, as plain text ("" if none)."""
    try:
        root = lxml.html.fromstring(html.encode("utf-8", "replace"))
    except (ValueError, lxml.etree.LxmlError):
        return ""
    best = ""
    for script in root.xpath("//script[@type='application/ld+json']/text()"):
        try:
            stack = [json.loads(script)]
        except ValueError:
            continue
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                body = item.get("articleBody")
                best = body if isinstance(body, str) and len(body) > len(best) else best
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    if "<" in best:  # some sites put the body's HTML there
        best = "\n".join(e.text_content().strip() for e in lxml.html.fromstring(f"<div>{best}</div>").iter("p", "li"))
    return best


def other_extractors() -> dict[str, Callable[[str, str], str]]:
    """Whichever of the other extractors are installed (none is a dependency of digest)."""
    found = {}
    try:
        from readability import Document  # noqa: PLC0415

        def readability(html, url):
            root = lxml.html.fromstring(Document(html, url=url).summary(html_partial=True))
            return "\n".join(e.text_content().strip() for e in root.iter("p", "li", "h2", "h3", "blockquote", "pre"))
        found["readability-lxml"] = readability
    except ImportError:
        pass
    try:
        import justext  # noqa: PLC0415
        found["jusText"] = lambda html, url: "\n".join(
            p.text for p in justext.justext(html.encode(), justext.get_stoplist("English")) if not p.is_boilerplate)
    except ImportError:
        pass
    try:
        from goose3 import Goose  # noqa: PLC0415
        goose = Goose({"enable_image_fetching": False})
        found["goose3"] = lambda html, url: goose.extract(raw_html=html, url=url).cleaned_text
    except ImportError:
        pass
    try:
        from boilerpy3 import extractors  # noqa: PLC0415
        found["boilerpy3"] = lambda html, url: extractors.ArticleExtractor(raise_on_failure=False).get_content(html)
    except ImportError:
        pass
    return found


def vote(base: str, voters: list[str], need: int) -> str:
    """Keep a paragraph of `base` when at least `need` of the voters also hold (most of) it."""
    readings = [(_shingles(v), f" {' '.join(_WORD.findall(v))} ") for v in voters]

    def held(paragraph: str, shingles: Counter, words: str) -> bool:
        mine = _shingles(paragraph)
        if not mine:  # under four words: found as a run of words
            return f" {' '.join(_WORD.findall(paragraph))} " in words
        return sum(n for s, n in mine.items() if s in shingles) >= 0.5 * sum(mine.values())
    return "\n\n".join(p for p in base.split("\n\n") if sum(held(p, *r) for r in readings) >= need)


def others(pages, truth, bench, folds, shipped: dict) -> None:
    found = other_extractors()
    outputs, systems = {}, {}
    for name, extract in found.items():
        started = time.perf_counter()
        outputs[name] = {}
        for page_id, html, url in pages:
            try:
                outputs[name][page_id] = extract(html, url) or ""
            except Exception:  # noqa: BLE001 - another library's failure on one page scores as empty
                outputs[name][page_id] = ""
        rate = len(pages) / (time.perf_counter() - started)
        systems[f"{name} alone ({rate:.0f} pages/s)"] = per_page(bench, outputs[name], truth)
    pairs = [("readability-lxml", "boilerpy3"), ("readability-lxml", "goose3", "boilerpy3")]
    for voters in pairs:
        if all(v in outputs for v in voters):
            for need in range(1, len(voters) + 1):
                voted = {i: vote(shipped[i], [outputs[v][i] for v in voters], need) for i in shipped}
                systems[f"shipped, kept if {need} of {'+'.join(voters)}"] = per_page(bench, voted, truth)
    bodies = {page_id: json_ld_body(html) for page_id, html, _ in pages}
    print(f"JSON-LD articleBody found on {sum(bool(b) for b in bodies.values())} pages "
          f"({sum(bool(b) and folds[i] == 0 for i, b in bodies.items())} in fold A)")
    systems["shipped, JSON-LD body instead where found"] = per_page(
        bench, {i: bodies[i] or shipped[i] for i in shipped}, truth)
    side_by_side(systems, folds)


def hostile_pages() -> list[tuple[str, str]]:
    """Two 3 MB pages (gather.max_page_bytes): nesting as deep as the bytes allow, and a huge link list."""
    size = 3_000_000
    level = '<div class="c"><p>Deep text with some words in it, again and again.</p>'
    depth = size // (len(level) + len("</div>"))
    nested = "<html><body>" + level * depth + "</div>" * depth + "</body></html>"
    item = '<li><a href="/x">Link item text here</a> and a little more</li>'
    intro = "<p>" + "An opening paragraph of the article with a few words. " * 20 + "</p>"
    listing = "<html><body><article>" + intro + "<ul>" + item * (size // len(item)) + "</ul></article></body></html>"
    return [(f"deeply nested divs ({depth:,} levels)", nested), (f"{size // len(item):,}-item link list", listing)]


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    evaldata = Path(args[0]) if args else EVALDATA
    bench = load_benchmark(evaldata)
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    ground_truth = bench.load_ground_truth()
    truth = {page_id: item.get("articleBody", "") for page_id, item in ground_truth.items()}
    pages = [(page_id, html, ground_truth[page_id].get("url")) for page_id, html, _ in bench.iter_pages()]
    folds = {page_id: site_fold(url) for page_id, _, url in pages}
    print(f"trafilatura {trafilatura.__version__}; {len(pages)} pages from {evaldata / 'article_extraction'}; "
          f"fold A {sum(f == 0 for f in folds.values())} pages, fold B {sum(f == 1 for f in folds.values())}")
    print(f"{'system':58s} {'P':>5s}  {'R':>5s}  {'F1':>5s}  {'pages':>5s}")
    print("1. dev-all (TUNED-ON: the extractor was developed looking at these pages)")
    published = bench.load_predictions("trafilatura")
    m = bench.score(published, truth)
    row("trafilatura 2.0.0, published output", m["precision"], m["recall"], m["f1"], len(published))
    run("trafilatura alone (defaults)", lambda html, url: trafilatura.extract(html, url=url), pages, truth, bench)
    run("trafilatura favor_precision, no comments", lambda html, url: trafilatura.extract(
        html, url=url, favor_precision=True, include_comments=False), pages, truth, bench)
    run("trafilatura fast, no comments", lambda html, url: trafilatura.extract(
        html, url=url, fast=True, include_comments=False), pages, truth, bench)
    round1 = run("round 1 (two rounds before this one)", lambda html, url: "\n\n".join(
        extract_paragraphs(html, url, **ROUND1)), pages, truth, bench)
    run("round 2 (main before this round)", lambda html, url: "\n\n".join(
        extract_paragraphs(html, url, **ROUND2)), pages, truth, bench)
    shipped = run("digest extract_text (shipped: round 3)", extract_text, pages, truth, bench)
    print("2. per fold, side by side (fold A: rounds 1-2 designed on it, round 3 not; fold B: round 3 designed on it)")
    table = {label: per_page(bench, predict(pages, **options), truth) for label, options in MENU}
    systems = {"round 1": per_page(bench, round1, truth),
               "round 2 (main before this round)": table["round 2, two readings, short<30, lists kept"],
               "round 3 (shipped)": per_page(bench, shipped, truth)}
    for name, rule in RULES3:
        systems[f"round 2 + {name}"] = per_page(bench, predict(pages, **{**ROUND2, **rule}), truth)
    for name, rule in RULES:
        systems[f"round 1 + {name}"] = per_page(bench, predict(pages, **{**ROUND1, **rule}), truth)
    side_by_side(systems, folds)
    print("3. cross-validated by site: settings chosen on the other fold (ties: the earlier menu entry)")
    cross_validate(table, folds)
    print("4. residual errors of the shipped method by kind (mean per-page share of shingles)")
    residual_errors(shipped, truth, folds)
    if "--others" in sys.argv:
        print("5. other extractors and ways to combine them (only those installed)")
        others(pages, truth, bench, folds, shipped)
    print("6. hostile 3 MB pages: extract_text seconds, characters out, peak RSS of this process")
    for name, html in hostile_pages():
        started = time.perf_counter()
        out = extract_text(html)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        print(f"  {name:40s} {len(html):,} chars in, {seconds:5.2f} s, {len(out):,} chars out, peak {peak} MB")


if __name__ == "__main__":
    main()
