"""Experiment (issue 14, round 4, NOT shipped): does a learned paragraph filter generalise better than rules?

Three rounds of hand-written furniture rules each raised the fold of dev pages they were
designed on and left the other fold where it was (bench/README.md). This asks whether a
model fitted to the dev pages, and scored only on sites it never saw, does better: the
candidates are trafilatura's fast reading of each page (the shipped pruning, headline drop,
split-body merge and embedded-post unwrapping, nothing else), each paragraph described by
generic features (length, position, punctuation, link density and the class/id words of
its element and ancestors as readability.js scores them, whether the precision reading
has it, a page's caption/teaser-link/teaser-list look-ups, a small boilerplate vocabulary),
labelled by the share of its 4-word shingles found in the reference (>= 0.5: article).
A gradient-boosted tree model (depth 3, 100 trees) is fitted on half the sites and keeps
the other half's paragraphs at probability >= 0.5; ten random site halvings, mean and
spread. Printed beside it: the candidates unfiltered, an oracle that keeps exactly the
labelled paragraphs (the ceiling of any filter over these candidates), the same model with
page-random halves (dev and held-out pages of the benchmark share sites: 19 of the 83 dev
hosts have two pages), and the shipped rules with the model as a second opinion that drops
what it is sure of (probability < 0.05).

Needs numpy and scikit-learn, which digest does not depend on:
    .venv/bin/pip install numpy scikit-learn
    .venv/bin/python bench/extraction_learned.py [evaldata-dir]      (about 90 s)
"""

from __future__ import annotations

import hashlib
import math
import re
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse


sys.path.insert(0, str(Path(__file__).resolve().parent))
from extraction import EVALDATA, load_benchmark, per_page, pooled  # noqa: E402 - the sibling bench script

from digest.gather import extract as X  # noqa: E402
from digest.gather.combine import key  # noqa: E402
from digest.gather.furniture import page_furniture, teaser_list_items  # noqa: E402
from digest.gather.readings import Readings  # noqa: E402

try:
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier
except ImportError:
    sys.exit("needs numpy and scikit-learn: .venv/bin/pip install numpy scikit-learn (not dependencies of digest)")

# readability.js's class/id vocabulary (its own, not ours), plus a few words of the same kind.
NEGATIVE = re.compile(r"hidden|banner|combx|comment|com-|contact|foot|footer|footnote|masthead|media|meta|outbrain"
                      r"|promo|related|scroll|share|shoutbox|sidebar|skyscraper|sponsor|shopping|tags|tool|widget"
                      r"|byline|author|caption|credit|social|newsletter|subscribe|signup|ad-|advert|recommend"
                      r"|popular|trending|nav|menu|breadcrumb", re.I)
POSITIVE = re.compile(r"article|body|content|entry|hentry|h-entry|main|page|post|text|blog|story", re.I)
VOCABULARY = re.compile(r"subscri|newsletter|sign up|sign-up|log in|follow|share|copyright|©|all rights reserved"
                        r"|advertis|click|read more|related|comment|cookie|privacy|terms of|e-?mail|download|app\b"
                        r"|podcast|watch|video|photo|image|credit|getty|reuters|associated press|\bap\b|updated"
                        r"|published", re.I)
LABEL_START = re.compile(r"^\W*\w+(\s+\w+){0,3}\s*:")
BYLINE = re.compile(r"^(by|written by|words by|von|par|por|di)\s", re.I)
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
BLOCKS = ("p", "li", *HEADINGS, "blockquote", "td", "dd", "dt", "figcaption", "pre",
          "div", "span", "section", "strong", "em", "b", "a")
ENDS = (".", "!", "?", "…", "\"", "”", "。", "！", "？", ")", "）", "'", "’")
WORD = re.compile(r"\w+")
SEEDS = range(10)


def elements(root, limit: int = 20000) -> dict[str, dict]:
    """Word key of an element's text -> its tag, link density and class/id words (first element wins)."""
    table: dict[str, dict] = {}
    for n, element in enumerate(root.iter(*BLOCKS) if root is not None else ()):
        if n >= limit:
            break
        text = element.text_content()
        k = key(text) if len(text) <= 5000 else ""
        if not k or k in table:
            continue
        in_link = element.tag == "a" or any(a.tag == "a" for a in element.iterancestors())
        linked = sum(len(key(a.text_content())) for a in element.iter("a"))
        above = [f"{a.get('class') or ''} {a.get('id') or ''}" for _, a in zip(range(6), element.iterancestors())]
        table[k] = {"tag": element.tag, "links": 1.0 if in_link else min(1.0, linked / len(k)),
                    "own": f"{element.get('class') or ''} {element.get('id') or ''}", "above": " ".join(above)}
    return table


def shingles(words: list[str]) -> Counter:
    return Counter(tuple(words[i:i + 4]) for i in range(max(1, len(words) - 3))) if words else Counter()


def page_rows(html: str, url: str | None, truth: str) -> list[dict]:
    """The page's candidate paragraphs with their features and labels."""
    root = X._tree(html)
    if root is None:
        return []
    X._unwrap_embedded_posts(root)
    X._prune(root, X.PRUNE_XPATH)
    readings = Readings(root, url)
    fast = readings.fast()
    if fast:
        fast = X._merge_split_body(X._Page(root, url, {}, set(), X.MERGE_COVER), fast, X.FAST)
    precise = readings.careful(X.COMPARE)
    paragraphs = X._drop_headline([p for p in (X._SPACES.sub(" ", line).strip() for line in fast.splitlines()) if p],
                                  X._page_identity(root, url)[0])
    precise_keys = {key(line) for line in precise.splitlines() if line.strip()}
    table = elements(root)
    captions = page_furniture(root, url, captions=True)
    teaser_links = page_furniture(root, url, teasers=True, captions=False)
    teaser_items = teaser_list_items(root, url)
    title_words = set(WORD.findall(" ".join(X._page_identity(root, url)[0])))
    reference, reference_text = shingles(WORD.findall(truth)), f" {' '.join(WORD.findall(truth))} "
    keys = [key(p) for p in paragraphs]
    shared = [i for i, k in enumerate(keys) if k in precise_keys]
    total = sum(len(p.split()) for p in paragraphs) or 1
    rows, seen = [], set()
    for i, p in enumerate(paragraphs):
        words = WORD.findall(p)
        bare = key(p.removeprefix("- "))
        if len(words) >= 4:
            label = sum((shingles(words) & reference).values()) / sum(shingles(words).values())
        else:
            label = float(f" {' '.join(words)} " in reference_text)
        found = table.get(keys[i])
        n = len(paragraphs)
        features = {
            "log_words": math.log1p(len(words)), "short": float(len(words) < 8), "middling": float(8 <= len(words) < 30),
            "ends_sentence": float(p.rstrip("*").endswith(ENDS)), "list_item": float(p.startswith("- ")),
            "in_precision": float(keys[i] in precise_keys),
            "in_shared_span": float(shared[0] <= i <= shared[-1]) if shared else 0.5, "no_precision": float(not shared),
            "position": i / max(1, n - 1), "first": float(i == 0), "last": float(i == n - 1), "last3": float(i >= n - 3),
            "found": float(found is not None), "link_density": found["links"] if found else 0.0,
            "negative_own": float(bool(found and NEGATIVE.search(found["own"]))),
            "negative_above": float(bool(found and NEGATIVE.search(found["above"]))),
            "positive_above": float(bool(found and POSITIVE.search(found["above"]))),
            "heading": float(bool(found and found["tag"] in HEADINGS)),
            "paragraph_tag": float(bool(found and found["tag"] == "p")),
            "capitalised": sum(t[:1].isupper() for t in p.split()) / max(1, len(p.split())),
            "digits": sum(c.isdigit() for c in p) / max(1, len(p)),
            "address": float("@" in p or "http" in p or "www." in p),
            "title_overlap": len(set(words) & title_words) / max(1, len(set(words))), "repeat": float(keys[i] in seen),
            "previous_words": math.log1p(len(paragraphs[i - 1].split())) if i else 0.0,
            "next_words": math.log1p(len(paragraphs[i + 1].split())) if i + 1 < n else 0.0,
            "ends_colon": float(p.rstrip().endswith(":")), "pipe": float("|" in p),
            "vocabulary": float(len(VOCABULARY.findall(p))), "label_start": float(bool(LABEL_START.match(p))),
            "time_stamp": float(X.is_time_stamp(p)), "caption": float(bare in captions),
            "teaser_link": float(bare in teaser_links), "teaser_item": float(bare in teaser_items),
            "share_of_page": len(words) / total, "byline": float(bool(BYLINE.match(p))),
            "distance_to_shared": math.log1p(min([abs(i - j) for j in shared] or [99])),
        }
        seen.add(keys[i])
        rows.append({"text": p, "features": features, "label": label, "words": len(words)})
    return rows


def scored(bench, truth: dict, predictions: dict) -> tuple[float, float, float]:
    """The benchmark's pooled P/R/F1 over the pages predicted (extraction.py's per-page counts and pooling)."""
    return pooled(per_page(bench, predictions, {page: truth[page] for page in predictions}), predictions)


def matrix(rows_by_page: dict, pages, names):
    x, y, weight = [], [], []
    for page in pages:
        rows = rows_by_page[page]
        total = sum(max(1, r["words"]) for r in rows) or 1
        for r in rows:  # every page weighs the same, as in the benchmark's score
            x.append([r["features"][n] for n in names])
            y.append(r["label"] >= 0.5)
            weight.append(50 * max(1, r["words"]) / total)
    return np.array(x), np.array(y), np.array(weight)


def halves(pages, group: dict, seed: int) -> dict:
    return {p: int(hashlib.sha256(f"{seed}:{group[p]}".encode()).hexdigest(), 16) % 2 for p in pages}


def cross_validated(rows_by_page, group, names, combine):
    """Mean and spread of (P, R, F1) over SEEDS random halvings by `group`; combine(page, probabilities) -> text."""
    results = []
    for seed in SEEDS:
        split, predictions = halves(list(rows_by_page), group, seed), {}
        for held in (0, 1):
            model = HistGradientBoostingClassifier(max_depth=3, max_iter=100, learning_rate=0.1, min_samples_leaf=20)
            x, y, weight = matrix(rows_by_page, [p for p in split if split[p] != held], names)
            model.fit(x, y, sample_weight=weight)
            for page in (p for p in split if split[p] == held):
                rows = rows_by_page[page]
                probabilities = (model.predict_proba(np.array([[r["features"][n] for n in names] for r in rows]))[:, 1]
                                 if rows else [])
                predictions[page] = combine(page, rows, probabilities)
        results.append(predictions)
    return results


def main() -> None:
    evaldata = Path(sys.argv[1]) if len(sys.argv) > 1 else EVALDATA
    bench = load_benchmark(evaldata)
    ground_truth = bench.load_ground_truth()
    truth = {page: item.get("articleBody", "") for page, item in ground_truth.items()}
    rows_by_page, shipped, url_of = {}, {}, {}
    for page, html, _ in bench.iter_pages():
        url_of[page] = ground_truth[page].get("url")
        rows_by_page[page] = page_rows(html, url_of[page], truth[page])
        shipped[page] = X.extract_paragraphs(html, url_of[page])
    names = list(next(r for rows in rows_by_page.values() for r in rows)["features"])
    site = {p: (urlparse(url_of[p] or "").netloc or "").lower().removeprefix("www.") for p in rows_by_page}
    print(f"{len(rows_by_page)} pages, {sum(map(len, rows_by_page.values()))} candidate paragraphs, "
          f"{len(names)} features; mean (and F1 spread) over {len(SEEDS)} random halvings")
    line = "{:62s} P {:.4f}  R {:.4f}  F1 {:.4f}{}"
    candidates = {p: "\n".join(r["text"] for r in rows) for p, rows in rows_by_page.items()}
    print(line.format("candidates, unfiltered (fast reading + headline drop)", *scored(bench, truth, candidates), ""))
    oracle = {p: "\n".join(r["text"] for r in rows if r["label"] >= 0.5) for p, rows in rows_by_page.items()}
    print(line.format("oracle filter (keeps exactly the labelled paragraphs)", *scored(bench, truth, oracle), ""))

    def kept(page, rows, probabilities):
        return "\n".join(r["text"] for r, q in zip(rows, probabilities) if q >= 0.5)

    def second_opinion(page, rows, probabilities):
        sure = {key(r["text"]) for r, q in zip(rows, probabilities) if q < 0.05}
        return "\n".join(p for p in shipped[page] if key(p) not in sure)

    for label, group, combine in (("learned filter, held-out SITES", site, kept),
                                  ("learned filter, held-out PAGES (sites shared)", {p: p for p in site}, kept),
                                  ("shipped rules, learned second opinion, held-out sites", site, second_opinion)):
        figures = np.array([scored(bench, truth, run) for run in cross_validated(rows_by_page, group, names, combine)])
        print(line.format(label, *figures.mean(0), f"  (F1 sd {figures[:, 2].std():.4f})"))
    print(line.format("shipped rules (IN-SAMPLE: designed on these pages)",
                      *scored(bench, truth, {p: "\n".join(v) for p, v in shipped.items()}), ""))


if __name__ == "__main__":
    main()
