"""Paragraphs as extractors leave them: mended where a line break cut a sentence, set apart where they are not
the page's own running prose, before any sentence is chosen.

Some paragraphs are whole but not the page's own story, or not whole: teasers of other posts cut off by a feed,
a fact box's labelled entries and a speaker's turns, an interviewer's questions, the opening of a paragraph that
finishes a sentence the extractor broke at a line break. Their sentences may be real sentences; they are never a
summary's, and judging that needs the paragraphs around them, which a sentence alone cannot show.
"""

from __future__ import annotations

import re

from digest.summarize.furniture import headline_case, is_furniture

__all__ = ["CLOSING", "LIST_ITEM", "aside", "list_intro", "mended", "set_apart", "teaser"]

_WORD_LABEL = re.compile(r"^[A-Z][a-z]+(?: \d{1,2})?: (?=[A-Z“\"‘'])")  # "Pitching: Maholm is 5-1...", "Questions: Should we..."
_PARAGRAPH_CUT = re.compile(r"\[(?:\.\.\.|…)\]$")
TEASER_PARAGRAPHS = 2  # paragraphs cut so: a page of other posts' teasers around (or instead of) its story
INTERVIEW_QUESTIONS = 3  # paragraphs of one question each: fewer may be a writer's rhetorical turns
CLOSING = "\"'”’»«)]」』）"
LIST_ITEM = re.compile(r"(?:[-–*] |\d{1,2}\) |[A-Z][a-z]+ \d{1,2}: |[A-Za-z]\] )")  # "Step 2: ", "Quote 1: ", "A] " too
_BROKEN_LINE = re.compile(r"^([^\n]*[A-Za-z0-9,;])([ \t]*\n(?:[ \t]*\n)?[ \t]*)(?=[a-z])", re.MULTILINE)
_GLUED_NUMBER = re.compile(r"^[ \t]*\d{1,2}(?=[A-Z][a-z]+ )", re.MULTILINE)
# A photo credit alone on its line: "KIMIHIRO HOSHINO/AFP/GettyImages", "Photo: Ann Reid/Reuters", "Getty Images".
_CREDIT = re.compile(r"^(?!(?i:reporting|editing|writing|additional|compiled)\b)(?:(?i:photo(?:graph)?|image|picture|"
                     r"credit)s?(?: by)?:?\s*)?(?:[A-Z][\w.'’ -]{0,40}(?:/[A-Z][\w.'’ -]{0,30}){1,3}|[\w.'’ -]{0,40}\b"
                     r"(?i:getty ?images|afp|reuters|associated press|ap photo|shutterstock|istock(?:photo)?|alamy|epa)\b"
                     r"[\w.'’ /-]{0,30})$")
_BY_CAPS = re.compile(r"^(?:By|Photo by|Photos by|Foto:|Bild:) [A-Z][A-Z.'’&/ -]{3,60}$")  # in capitals, no sentence
# A profile box's lines: "About Me", "About the author", "- Name: ...", "Location: New York".
_PROFILE = re.compile(r"^(?:[-–*•] )?(?:about (?:me|the author|the writer|the blogger|this blogger)[.:!]?|(?:name|location|"
                      r"occupation|industry|interests|hometown|gender|age|member since|joined) ?:.{0,60})$", re.IGNORECASE)
PROFILE_WORDS = 12  # a profile line is no longer
CREDIT_WORDS, CAPTION_WORDS = 8, 40  # a credit line is this short; a caption above it no longer than this
BROKEN_TAIL_WORDS = 4  # words: a paragraph's unfinished last piece this long is a sentence cut by a line break


def mended(text: str) -> str:
    """The text with lines broken inside a sentence rejoined and step numbers unglued from their first word."""
    return _unnumbered(_rejoin_lines(text))


def _unnumbered(text: str) -> str:
    """Steps whose number the extractor glued to their first word ("2Add enough water...", "3Make the batter..."), in
    a text with two such paragraphs or more, without the number: a lone "4Runner" or "1Password" is a name."""
    return _GLUED_NUMBER.sub("", text) if len(_GLUED_NUMBER.findall(text, 0, 20000)) >= 2 else text


def _rejoin_lines(text: str) -> str:
    """Lines broken inside a sentence rejoined: a line of a few words that ends on a word or a comma, then one that
    goes on in lower case, as hard-wrapped text and some extractors leave them ("... I need to" / "edit my config file,
    restart shells."). Left alone in a text written in lower case throughout, where every line starts so."""
    if "\n" not in text or not any(ch.isupper() for ch in text[:4000]):
        return text
    return _BROKEN_LINE.sub(lambda m: m.group(1) + (" " if len(m.group(1).split()) >= BROKEN_TAIL_WORDS else m.group(2)), text)


def set_apart(found: list[tuple[str, bool]]) -> set[int]:
    """Indexes of the (sentence, starts a paragraph) pairs that are not the page's own running prose."""
    return (_teaser_paragraphs(found) | _broken_openings(found) | _labelled(found) | _interview_questions(found)
            | _credited(found) | _signed(found) | _profiled(found) | _list_leads(found))


def _teaser_paragraphs(found: list[tuple[str, bool]]) -> set[int]:
    """Indexes of the sentences from the first paragraph cut off by a feed or an index page ("... the even […]") to
    the last, when two paragraphs or more are cut so: those are teasers of other posts around the page's own story
    (a teaser between two cut ones may end whole), not its sentences. One cut paragraph is left alone: a feed
    item's description cut at its end is the story."""
    starts = [n for n, (_, first) in enumerate(found) if first] + [len(found)]
    cut = [(a, b) for a, b in zip(starts, starts[1:]) if b > a and _PARAGRAPH_CUT.search(found[b - 1][0])]
    return set(range(cut[0][0], cut[-1][1])) if len(cut) >= TEASER_PARAGRAPHS else set()


def _labelled(found: list[tuple[str, bool]]) -> set[int]:
    """Indexes of the sentences in paragraphs that open with a one-word label ("Pitching: Maholm is 5-1...",
    "Questions: Should schools...?", "Rick: I got into tech...", "Quote 2: This is just the beginning."): a fact box's entry, a list of questions or a
    speaker's turn, whose sentences lean on the label ("The lefty is 4-3", "in such a way") or are someone's words
    the summary would give as the page's. Cutting the label would misattribute a speaker's words, so the whole
    paragraph is left out."""
    out, inside = set(), False
    for n, (sentence, first) in enumerate(found):
        inside = bool(_WORD_LABEL.match(sentence)) if first else inside
        if inside:
            out.add(n)
    return out


def _interview_questions(found: list[tuple[str, bool]]) -> set[int]:
    """Indexes of the sentences in paragraphs of one or two sentences that end with a question, in a text with three
    or more of them: an interview without speakers' labels ("What's the main difference between a medical wig and a
    traditional wig?", "When you were diagnosed, it was nearly impossible to find one. What did you do?"), whose
    turns are the interviewer's, not the page's news."""
    starts = [n for n, (_, first) in enumerate(found) if first] + [len(found)]
    spans = list(zip(starts, starts[1:]))
    asks = [0 < b - a <= 2 and found[b - 1][0].rstrip(CLOSING).endswith("?") and not LIST_ITEM.match(found[a][0])
            for a, b in spans]
    # each followed by its answer: a paragraph that asks nothing
    asked = [range(a, b) for k, (a, b) in enumerate(spans) if asks[k] and k + 1 < len(spans) and not asks[k + 1]]
    return {n for span in asked for n in span} if len(asked) >= INTERVIEW_QUESTIONS else set()


def _broken_openings(found: list[tuple[str, bool]]) -> set[int]:
    """Indexes of paragraph openings that finish a sentence the extractor broke at a line break: the paragraph
    before ends, after a sentence of its own, with a piece of words and no stop ("... their work.Dolphin Cay
    donated supplies to the Alliance For Animal" / "Rights and Kindness with their work, as they..."). Neither
    half is a sentence a reader can take alone."""
    out = set()
    for n in range(1, len(found)):
        tail, tail_first = found[n - 1]
        if (found[n][1] and not tail_first and len(tail.split()) >= BROKEN_TAIL_WORDS and (tail[-1:].isalnum()
                or tail.endswith(",")) and not headline_case(tail)):
            out.add(n)
    return out


def aside(sentence: str) -> bool:
    """A sentence in brackets from end to end: the writer's aside to the page ("(The link above is to the paperback;
    the e-book comes later.)", "[Updated at noon.]"), never the news itself."""
    body = sentence.rstrip(".!?…")  # "(think of last year's contest)…" too
    if len(body) < 3 or body[0] not in "([" or body[-1] not in ")]":
        return False
    depth = 0
    for ch in body[:-1]:
        depth += (ch in "([") - (ch in ")]")
        if depth == 0:
            return False  # "(Reuters) The company said ... (pictured)": the first bracket closes early
    return True


def _list_leads(found: list[tuple[str, bool]]) -> set[int]:
    """Indexes of the sentences that trail off into a list on the next line ("If you've run a website for any length
    of time, I'm betting you've felt…" / "- Insecure about giving your password to a designer"): the list finishes
    them, and a summary has no room for it."""
    return {n for n in range(len(found) - 1) if found[n][0].rstrip(CLOSING).endswith(("…", "...", ":"))
            and found[n + 1][1] and LIST_ITEM.match(found[n + 1][0])}


def _profiled(found: list[tuple[str, bool]]) -> set[int]:
    """Indexes of the sentences of the paragraph under a profile box's heading or fields ("About Me", "- Name: ...",
    "- Location: ..."): a writer's bio in a sidebar ("I have been an advertising copywriter for 19 years. I hate
    capri pants."), never the page's story. ("About us" heads a company's own page, whose story it is.)"""
    starts = [n for n, (_, first) in enumerate(found) if first] + [len(found)]
    out: set[int] = set()
    under = False
    for a, b in zip(starts, starts[1:]):
        line = found[a][0].strip()
        if b == a + 1 and len(line.split()) <= PROFILE_WORDS and _PROFILE.match(line):
            under = True
        elif under:
            out.update(range(a, b))
            under = False
    return out


def _credited(found: list[tuple[str, bool]]) -> set[int]:
    """Indexes of the sentences of a short paragraph that a photo credit follows on its own line: that paragraph is
    the picture's caption ("CS gas, a type of tear gas, is approved for police use." / "KIMIHIRO HOSHINO/AFP")."""
    starts = [n for n, (_, first) in enumerate(found) if first] + [len(found)]
    out: set[int] = set()
    for a, b, c in zip(starts, starts[1:], starts[2:]):
        credit = found[b][0].strip()
        if (c == b + 1 and len(credit.split()) <= CREDIT_WORDS and _CREDIT.match(credit)
                and sum(len(found[n][0].split()) for n in range(a, b)) <= CAPTION_WORDS):
            out.update(range(a, b))
    return out


def _signed(found: list[tuple[str, bool]]) -> set[int]:
    """Indexes of the sentences of a short paragraph that ends in a credit in capitals: a caption ("Agents found the
    boat on Sunday. By U.S. CUSTOMS AND BORDER PROTECTION")."""
    starts = [n for n, (_, first) in enumerate(found) if first] + [len(found)]
    out: set[int] = set()
    for a, b in zip(starts, starts[1:]):
        if b - a >= 2 and _BY_CAPS.match(found[b - 1][0].strip()) and sum(
                len(found[n][0].split()) for n in range(a, b - 1)) <= CAPTION_WORDS:
            out.update(range(a, b - 1))
    return out


_LIST_HEADING = re.compile(r"^\d{1,2}[.)](?:\s*[A-Z“\"‘'].*)?$")  # "1.", "2. Sam Ponder", "3.Charlotte Jones"
LIST_ITEMS = 3  # numbered headings: fewer make a text with a list in it, not a list with an intro
TEASER_WORDS = 60  # a teaser longer than this (no stop anywhere) is cut at a word boundary, with an ellipsis
_STOP_END = re.compile(r"[.!?…][\"'”’)]*$")
_CUT = re.compile(r"\s*(?:\[(?:…|\.\.\.)\]|…|\.\.\.)\s*$")


def list_intro(found: list) -> set[int]:  # of split.Unit (not imported: split imports this module)
    """ids of the sentences before a list's first item, in a text that is mostly a numbered list ("1.", "2. Sam
    Ponder", three items or more, after two sentences or more): the intro says what the list is; an item's lines
    lean on its heading ("Sports broadcaster for..." under a name). Empty when the text is no such list."""
    items = [k for k, u in enumerate(found) if not u.prose and _LIST_HEADING.match(u.text) and len(u.text.split()) <= 12]
    if len(items) < LIST_ITEMS:
        return set()
    intro = {id(u) for u in found[:items[0]] if u.prose}
    return intro if len(intro) >= 2 else set()


def teaser(found: list, max_sentences: int) -> list[str]:  # of split.Unit
    """A very short text kept whole: a headline-like teaser ("Police say the guards now face a criminal case")
    is the publisher's own summary, and one or two sentences need no choosing; a feed's cut ("[…]") becomes
    one ellipsis. Longer texts with no real sentence at all are page furniture and give nothing."""
    lines = [u.text for u in found if not is_furniture(u.text)]
    if not lines or len(lines) > 2 or (len(found) > 2 and not all(_STOP_END.search(line) for line in lines)):
        return []  # a wire brief keeps its one sentence under the agency's notices ("Copyright 2017 The Associated
        # Press. All rights reserved."), which repeats the headline and so is no prose; lines without a stop among
        # notices ("Registration Number: 130349") are a page of furniture
    out = []
    for line in lines[:max_sentences]:
        words = line.split()
        if _CUT.search(line):
            line = _CUT.sub("", line).rstrip(" ,;:-–—") + "…"
        elif len(words) > TEASER_WORDS:
            line = " ".join(words[:TEASER_WORDS - 10]).rstrip(" ,;:-–—") + "…"
        out.append(line)
    return out
