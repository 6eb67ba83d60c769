"""Files for a blind read of end-to-end summaries (issue 29), and the tally of what the readers wrote.

A blind read is how the end-to-end goal is measured here: outside pages go through
digest.gather.extract.extract_text and summarize (title from <title>), a reader who is
not told which code made what judges each summary by the criteria in PROMPT, and writes
one JSON line per item. Two ways:

- single: `write SEED START COUNT OUT.txt [POOL]` - pages START..START+COUNT of the Dragnet pages
  no earlier seed listed in READ has taken (ordered by sha1(SEED + id)), one summary each; POOL
  (see pool()) takes them from another set instead;
- paired: run `side SEED START COUNT [POOL] > X.json` once in this checkout and once with
  CHECKOUT=/path/to/another/checkout (a `git worktree` of the code to compare), then
  `pair OLD.json NEW.json OUT.txt KEY.json` - both summaries per page as X and Y in an
  order fixed by the page's id, the key kept apart from the reader;
- `changed OLD.json NEW.json OUT.txt KEY.json [READ.txt ...]` - from two `side ... all` runs: how many summaries a
  change alters on the pages the READ files (earlier `write` outputs) list and elsewhere, and a paired file of the
  latter: the held-out pages a change reaches;
- `tally KEY.json JUDGED.jsonl [...]` - defects per side, by kind, only-one-side, preference.

The reader's instructions are PROMPT (single) and PAIR_PROMPT (paired); `prompt` prints them.
Reads ../shared/evaldata/outside_extraction beside the repo root.
Run: .venv/bin/python bench/blind_read.py write s7 0 60 /tmp/A.txt
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import os
import re
import sys
from collections import Counter
from pathlib import Path

if os.environ.get("CHECKOUT"):  # the other side of a paired read: import digest from that checkout
    sys.path.insert(0, os.environ["CHECKOUT"])

EVALDATA = Path(__file__).resolve().parent.parent.parent / "shared" / "evaldata" / "outside_extraction"
# Seeds read before (seed -> Dragnet ranks, trafilatura-eval ranks): their pages are not fresh.
READ = {"s6b": (60, 20), "s6c": (60, 20), "s6h": (90, 30), "s6z": (200, 0), "h6r": (400, 400), "h29s": (200, 200),
        "h29s2": (140, 140), "h29f": (200, 200), "lede": (300, 300)}
CRITERIA = """Count a defect when any summary sentence is:
- furniture: navigation, a menu or link list, an ad, a promo or call to action ("Subscribe", "Explore more photos...",
  "Click here", "Read more"), a byline, a date or dateline alone, a photo caption or credit, a headline run into a
  sentence, an author bio, comment/reply/share furniture, legal or cookie text, a label like "Related:";
- a dangling reference: a sentence that leans on something the summary does not contain: a pronoun ("He", "It",
  "This", "They") or a definite noun phrase ("the company", "the bill") whose antecedent is only in a skipped sentence
  or in a picture/heading, a connective answering a skipped sentence ("However,", "Also,", "But"), a quotation whose
  speaker is never introduced, "here"/"below"/"above" pointing at page parts;
  (a pronoun pointing at the headline/TITLE subject in the article's very first sentence is NOT a defect: readers see
  the headline above the summary)
- a fragment: not a full sentence (a noun phrase with a stop, a sentence cut mid-way, text run together);
- garbled: mojibake, spun text, text of two sentences glued;
- an empty summary while the article has readable prose, or a summary not about the article at all.
Do NOT count: a summary that is merely dull or less informative than it could be, or sentences that are fine on
their own. Be strict but fair, as an editor would be."""
PROMPT = """You are a blind reader for a newsletter tool's article summaries. Read the file FILE. Each item has a TITLE
(the page's <title>), a SUMMARY (up to three sentences shown to newsletter readers under the headline) and the start
of the ARTICLE TEXT the tool extracted from the web page. For every item decide whether the SUMMARY has a defect.
""" + CRITERIA + """
Write to OUT one JSON line per item, in order: {"item": K, "id": "...", "defect": true|false, "kind":
"furniture|dangling|fragment|garbled|empty|other|none", "sentence": "the offending sentence, verbatim", "why": "..."}."""
PAIR_PROMPT = """You are a blind reader for a newsletter tool's article summaries. Read the file FILE. Each item has a
TITLE, two candidate SUMMARIES labelled X and Y (from two versions of the tool, in an order that tells you nothing;
they may be identical) and the start of the ARTICLE TEXT. Judge X and Y separately.
""" + CRITERIA + """ Judge identical summaries identically.
Write to OUT one JSON line per item, in order: {"item": K, "id": "...", "X": {"defect": true|false, "kind": "...",
"sentence": "..."}, "Y": {...}, "better": "X|Y|same"} ("better": which you would rather send to readers)."""


def _rows(name: str, lang: str = "en") -> list[dict]:
    with gzip.open(EVALDATA / f"{name}.jsonl.gz", "rt", encoding="utf-8") as f:
        return [row for row in map(json.loads, f) if name == "dragnet" or row.get("lang") == lang]


def _ranked(rows: list[dict], seed: str) -> list[dict]:
    return sorted(rows, key=lambda row: hashlib.sha1((seed + row["id"]).encode()).hexdigest())


def fresh(seed: str, start: int, count: int) -> list[dict]:
    """Dragnet pages no seed in READ took, in the order of `seed`."""
    rows = _rows("dragnet")
    seen = {row["id"] for old, (ranks, _) in READ.items() for row in _ranked(rows, old)[:ranks]}
    return [row for row in _ranked(rows, seed) if row["id"] not in seen][start:start + count]


def pool(name: str, seed: str, start: int, count: int) -> list[dict]:
    """Pages START..START+COUNT of a pool in the order of `seed`: `fresh` (above), `dragnet` (all of Dragnet, most
    of it read in earlier rounds), `english` (trafilatura-eval's English pages, read in earlier rounds) or `german`
    (trafilatura-eval's German pages but the 60 that the seventh round's W read took, seed s7w); `all` is every page
    of the three, in file order."""
    if name == "fresh":
        return fresh(seed, start, count)
    if name == "all":  # every page: what a change reaches (`changed`)
        return (_rows("dragnet") + _rows("trafilatura-eval") + _rows("trafilatura-eval", "de"))[start:start + count]
    if name == "german":
        rows = _rows("trafilatura-eval", "de")
        taken = {row["id"] for row in _ranked(rows, "s7w")[:60]}
        rows = [row for row in rows if row["id"] not in taken]
    else:
        rows = _rows({"dragnet": "dragnet", "english": "trafilatura-eval"}[name])
    return _ranked(rows, seed)[start:start + count]


def items(rows: list[dict]) -> dict[str, dict]:
    from digest.gather.extract import extract_text
    from digest.summarize.extractive import summarize
    out = {}
    for row in rows:
        found = re.search(r"<title[^>]*>(.*?)</title>", row["html"], re.IGNORECASE | re.DOTALL)
        title = " ".join(html.unescape(found.group(1)).split()) if found else None
        text = extract_text(row["html"], row.get("url")) or ""
        out[row["id"]] = {"title": title, "text": text[:2500], "summary": summarize(text, title=title)}
    return out


def _lines(summary: list[str]) -> str:
    return "".join(f"  * {s}\n" for s in summary) or "  (empty)\n"


def write(found: dict[str, dict], start: int, path: str) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for k, (pid, it) in enumerate(found.items(), start):
            out.write(f"##### ITEM {k} id={pid}\nTITLE: {it['title']}\nSUMMARY:\n{_lines(it['summary'])}"
                      f"ARTICLE TEXT (as extracted, first 2500 characters):\n{it['text']}\n\n")


def pair(old: dict, new: dict, path: str, key_path: str, start: int = 0) -> None:
    key = {}
    with open(path, "w", encoding="utf-8") as out:
        for k, pid in enumerate(old, start):
            flip = int(hashlib.sha1(("pair" + pid).encode()).hexdigest(), 16) % 2
            x, y = (new[pid], old[pid]) if flip else (old[pid], new[pid])
            key[pid] = {"X": "new" if flip else "old", "Y": "old" if flip else "new", "item": k}
            out.write(f"##### ITEM {k} id={pid}\nTITLE: {old[pid]['title']}\nSUMMARY X:\n{_lines(x['summary'])}"
                      f"SUMMARY Y:\n{_lines(y['summary'])}ARTICLE TEXT (as extracted, first 2500 characters):\n"
                      f"{old[pid]['text']}\n\n")
    Path(key_path).write_text(json.dumps(key), encoding="utf-8")


def changed(old: dict, new: dict, read_files: list[str]) -> tuple[list[str], list[str]]:
    """(ids whose summaries differ and no file in `read_files` lists, ids whose summaries differ and one does): the
    pages a change reaches that its rules were not written from, and those they were."""
    read = {line.split(" id=", 1)[1].strip() for path in read_files
            for line in Path(path).read_text(encoding="utf-8").splitlines() if line.startswith("##### ITEM ")}
    differ = [pid for pid in old if old[pid]["summary"] != new[pid]["summary"]]
    return [pid for pid in differ if pid not in read], [pid for pid in differ if pid in read]


def tally(key: dict, judged: list[dict]) -> dict:
    by_item = {v["item"]: v for v in key.values()}
    defects, kinds, only, better = Counter(), {"old": Counter(), "new": Counter()}, Counter(), Counter()
    for row in judged:
        sides = {by_item[row["item"]]["X"]: row["X"], by_item[row["item"]]["Y"]: row["Y"]}
        for side in ("old", "new"):
            if sides[side]["defect"]:
                defects[side] += 1
                kinds[side][sides[side]["kind"]] += 1
        for side, other in (("old", "new"), ("new", "old")):
            only[side] += sides[side]["defect"] and not sides[other]["defect"]
        choice = row.get("better", "same")
        better[by_item[row["item"]][choice] if choice in ("X", "Y") else "same"] += 1
    return {"pages": len(judged), "defects": dict(defects), "kinds": {s: dict(c) for s, c in kinds.items()},
            "only one side": dict(only), "preferred": dict(better)}


def main(argv: list[str]) -> int:
    command, args = (argv[0], argv[1:]) if argv else ("help", [])
    if command == "write":
        seed, start, count, path = args[0], int(args[1]), int(args[2]), args[3]
        write(items(pool(args[4] if len(args) > 4 else "fresh", seed, start, count)), start, path)
    elif command == "side":
        rows = pool(args[3] if len(args) > 3 else "fresh", args[0], int(args[1]), int(args[2]))
        print(json.dumps(items(rows)))
    elif command == "pair":
        old, new = (json.loads(Path(p).read_text(encoding="utf-8")) for p in args[:2])
        pair(old, new, args[2], args[3], int(args[4]) if len(args) > 4 else 0)
    elif command == "changed":  # OLD.json NEW.json OUT.txt KEY.json [READ.txt ...]
        old, new = (json.loads(Path(p).read_text(encoding="utf-8")) for p in args[:2])
        unread, read = changed(old, new, args[4:])
        print(f"{len(unread) + len(read)} of {len(old)} summaries differ: {len(read)} on the {len(args[4:])} read "
              f"file(s)' pages, {len(unread)} elsewhere (paired in {args[2]})")
        pair({pid: old[pid] for pid in unread}, {pid: new[pid] for pid in unread}, args[2], args[3])
    elif command == "tally":
        key = json.loads(Path(args[0]).read_text(encoding="utf-8"))
        judged = [json.loads(line) for p in args[1:] for line in Path(p).read_text(encoding="utf-8").splitlines()
                  if line.strip()]
        print(json.dumps(tally(key, judged), indent=1))
    elif command == "prompt":
        print(PROMPT, PAIR_PROMPT, sep="\n\n")
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
