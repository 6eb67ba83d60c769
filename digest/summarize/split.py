"""Article text -> sentences, and which of them could open or fill a summary.

Splitting is where most bad summaries start: a photo caption glued to the
next sentence becomes a 90-word "sentence", a byline becomes the lede, a
tokenized text (`it 's over . the next`) never splits at all. So before
splitting we undo tokenization and strip page furniture (datelines, bylines,
"Scroll down for video", citation markers); after splitting each sentence is
marked with what the summarizer needs to know and cannot see from the words:
whether it starts a paragraph, whether it sits inside a quotation that began
earlier, and whether it is a caption or furniture rather than prose.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ftfy import fix_encoding

from digest.summarize.abbreviations import (AMBIGUOUS, BEFORE_NUMBER, MONTHS, OPENERS, ORDINAL_BEFORE, RANK_BEFORE,
                                           SHARED_MONTHS, TITLES)
from digest.summarize.apart import CLOSING as _CLOSING, LIST_ITEM as _LIST_ITEM, aside, mended, set_apart
from digest.summarize.furniture import headline_case, is_furniture, not_story, strip_furniture
from digest.summarize.headline import headline_parts, is_headline
from digest.summarize.markers import SPEAKER_AFTER, SPEECH as _SPEECH, subhead

__all__ = ["Unit", "clean_text", "is_furniture", "split_sentences", "units", "word_count"]


# Capitalised words that start a new sentence when a caption was glued in front of them without a stop
# ("... last Saturday However, Chinese aviation ..."); only looked for inside overlong sentences.
_GLUED_OPENERS = ("The|A|An|He|She|It|They|We|I|But|However|Meanwhile|His|Her|Their|Its|This|These|Those|"
                  "There|In|On|At|After|When|While|Now|Police|Officials|Mr|Mrs|Ms|Dr")
_GLUED = re.compile(r"(?<=[a-z0-9’'\")\]]) (?=(?:" + _GLUED_OPENERS + r")\b[ ,’'])"
                    r"|(?<=[a-z0-9’'\")\]]) (?=[A-Z][\w’'-]*(?: [\w’'-]+){0,2}: (?:[‘“\"']|(?:"
                    + _GLUED_OPENERS + r")\b))")  # "... Saturday Skilful: The kite", not "mix Battlefield: WWII"
# A pronoun after a common noun is a relative clause far more often than a glued caption's next sentence ("travel
# writers I met after I quit", "the places they visited"); a caption's end is a name, a day, a place, a number.
_RELATIVE = re.compile(r"(?:I|He|She|It|They|We)\b")
WORD_REACH = 100  # characters: longer "words" (a URL, a hash) are not abbreviations or sentence openers
PARENTHESIS_REACH = 300  # characters: a parenthesis left open longer than this is a stray, not an aside
_LONG = 40  # words: a longer "sentence" is usually captions glued together
HEADING_WORDS = 6  # words: a paragraph that is one question this short is a heading ("What is Golem?")

# What may follow a sentence's stop before the space: closing quotes and brackets. "“" closes a German „…“;
# elsewhere only when a space follows (".“It was" opens the next sentence).
_STOP, _AFTER = r"([.!?…。！？।॥]+)", "[" + re.escape(_CLOSING + "*†") + "]"  # and a footnote's mark: ".* At least"
_CANDIDATE = re.compile(_STOP + r"(?:" + _AFTER + r"|“(?=[\s" + re.escape(_CLOSING) + r"]|$))*(\s*)")
_CANDIDATE_GERMAN = re.compile(_STOP + r"(?:" + _AFTER + r"|“)*(\s*)")  # where „ opens, “ always closes
_FULL_STOPS = "。！？।॥"  # Chinese and Japanese stops, and the danda of Bengali and Hindi, end a sentence with no space after them
_ENDS = (".", "!", "?", "…", *_FULL_STOPS)
# Han, kana and the like: a sentence of them has no spaces, so words are counted as two characters each.
_NO_SPACES = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_PARAGRAPHS = re.compile(r"\n\s*\n|\n")
_OPENING = "\"'“‘([«„"  # « and „ open quotations in French, Spanish, Ukrainian, German
_QUOTE_MARK = re.compile("[\"'“”‘’«»„「」『』]")
# The marks that close a quotation opened by each mark; writers mix straight and curly ones ("“We won," he said).
_CLOSES = {"“": "”\"", '"': '"”', "‘": "’'", "'": "'’", "„": "“”\"", "«": "»", "»": "«»", "”": "”\"", "「": "」", "『": "』"}
# After an apostrophe: an elision ('90s, 'til) or a tokenized contraction ("Boeing 's", "do n't" as some feeds
# and corpora write them), not an opening quote.
_ELISION = re.compile(r"(?:\d0s\b|\d\d(?=[.,;:!?)]|$)|til\b|em\b|tis\b|twas\b|cause\b|n\b|s\b|re\b|ve\b|ll\b|d\b|m\b|t\b)",
                      re.IGNORECASE)
_PARENTHESIS = re.compile(r"[()]")
_ASIDE_GOES_ON = re.compile(r"\([^()\n]{1,40}\) [a-z]")
_STOPWORDS = frozenset("a an the of to in on at by for with and or but from as is was".split())

# Tokenized text (PTB style, as many corpora and some feeds store it): undone before splitting.
_TOKENIZED = re.compile(r" (?:[.,;:!?%]|'s|n't|'re|'ve|'ll|'d|'m)(?= |$)")
_DETOKENIZE = [
    (re.compile(r"-LRB-|-LSB-|-LCB-"), "("), (re.compile(r"-RRB-|-RSB-|-RCB-"), ")"),
    (re.compile(r"``\s*|''\s*(?=\w)"), '"'), (re.compile(r"\s*''"), '"'),
    (re.compile(r" (?=[.,;:!?%)\]]|'s\b|n't\b|'re\b|'ve\b|'ll\b|'d\b|'m\b)"), ""),
    (re.compile(r"([(\[$£]) "), r"\1"),
]
# A photo credit closing a paragraph on its own after the caption: "(Danilo Pavlov)", "(Photo: AFP)"; not "(AP)"
# after an article's last sentence nor "(Developing story)".
_CREDIT_ALONE = re.compile(r"\((?:[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*)?(?:/[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){0,2}){1,3}|"  # (AFP/Getty Images)
                           r"(?:(?:AP|AFP|EPA|PA|Reuters|Getty) )?(?:(?i:photo|image|credit|picture)s?(?: by)? ?[:/] ?[\w'’. -]{1,40}"
                           r"|(?!(?:Developing|Breaking|Updated?|Live|Associated|Watch|Video)\b)"
                           r"[A-Z][a-z][\w'’.-]*(?: (?!(?:Story|Press|News|Update)\b)[A-Z][\w'’.-]*){1,2}))\)")
_LABEL = re.compile(r"^[A-Z][\w’'-]*(?: [\w’'-]+){0,2}: ")  # "Fighter ace: ...", "Pictured: ...", a caption's label
# An interviewer's question, as transcripts print it: "CNN: What do you hope this recognition will mean...?", "Q: Why?"
_INTERVIEW_QUESTION = re.compile(r"^[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){0,2}: [^:]*\?[\"”’']*$")
# A line of a list at a paragraph's start: "- helm integration (not in melpa?)", "2) 2001 Alan Greenspan said..."
_CAPS_LABEL = re.compile(r"(?:[A-Z][A-Z0-9’'&-]*[A-Z0-9] ){2,}(?=[A-Z][a-z])")
_GLUED_ACRONYM = re.compile(r"[A-Z]{2,5}(?:['’]s)?$")

class Unit(NamedTuple):
    """One sentence and what the summarizer must know about its place in the article."""
    text: str
    paragraph_start: bool
    balanced: bool  # no quotation (or parenthesis) runs into it from an earlier sentence or out of it to a later one
    prose: bool  # a real sentence: not a caption, label, furniture, code, or a fragment without a final stop
    glued: bool = False  # a piece of a sentence that had a caption glued into it (split off by _unglue)


def clean_text(text: str, title: str | None = None) -> str:
    """The text without tokenization and page furniture (the headline too, if run into a paragraph), paragraphs
    kept."""
    if "\u00c3" in text or "\u00e2\u20ac" in text:  # "Ã©", "â€™": UTF-8 read as Windows-1252 somewhere upstream
        text = fix_encoding(text)  # ftfy undoes only that, and only where the result is more plausible text
    sample = text[:4000]
    if len(_TOKENIZED.findall(sample)) >= max(2, len(sample) // 400):
        for pattern, repl in _DETOKENIZE:
            text = pattern.sub(repl, text)
    return mended(strip_furniture(text, title))


def split_sentences(text: str) -> list[str]:
    """Split into sentences, keeping "Sept. 1", "U.S.", "7.5", "22,816" and "Mr. J. Smith" whole."""
    return [sentence for sentence, _ in _sentences_with_breaks(text)]


def units(text: str, title: str | None = None) -> list[Unit]:
    """The cleaned article as sentences, each marked (see Unit); captions glued into long sentences split off."""
    out: list[Unit] = []
    quoting = ""  # the mark of the quotation open, if one is
    found = _sentences_with_breaks(clean_text(text, title))
    apart = set_apart(found)
    headlines = headline_parts(title)
    for n, (sentence, first) in enumerate(found):
        pieces = _unglue(sentence) if word_count(sentence) > _LONG or _LABEL.match(sentence) else [sentence]
        alone = first and (n + 1 == len(found) or found[n + 1][1])  # the paragraph's only sentence
        for k, piece in enumerate(pieces):
            if first and k == 0:
                quoting = ""  # a new paragraph: an unclosed quotation is reopened explicitly if it goes on
            label = _CAPS_LABEL.match(piece)
            if label and sum(ch.isalpha() for ch in label.group()) >= 6:
                piece = piece[label.end():]  # a subhead in capitals run into its paragraph: "BALL OF THE CENTURY Benaud..."
            elif first and len(pieces) == 1 and subhead(piece):
                piece = piece[piece.index(": ") + 2:]
            if piece.endswith(("*", "†")) and piece.rstrip("*†")[-1:] in (".", "!", "?", "…"):
                piece = piece.rstrip("*†")  # a footnote's mark after the stop
            opens, quoting_after, stray = _quote_state(piece, quoting)
            balanced = not ((quoting and not opens) or stray or quoting_after or _parentheses(piece))
            prose = (_is_prose(piece, len(pieces) > 1) and not (alone and _heading(piece))
                     and not (first and k == 0 and _LIST_ITEM.match(piece))
                     and not is_headline(piece, title, headlines)
                     and not aside(piece)
                     and n not in apart)
            out.append(Unit(piece, first and k == 0, balanced, prose, len(pieces) > 1))
            quoting = quoting_after
    return out


def _heading(line: str) -> bool:
    """A paragraph that is a heading though it ends with a stop: a short question ("What's Golem and yapapi?")."""
    return line.endswith("?") and word_count(line) <= HEADING_WORDS


def _unglue(sentence: str) -> list[str]:
    """A sentence with captions glued into it ("... on Saturday Skilful: The kite weighs ...") in pieces."""
    pieces, start = [], 0
    for match in _GLUED.finditer(sentence):
        near = sentence[max(start, match.start() - 4 * WORD_REACH):match.start()].split()  # a bounded look back
        last = near[-1].lower() if near else ""
        if (len(near) >= 4 and last not in _STOPWORDS and last.rstrip(".") not in TITLES and not _SPEECH.fullmatch(last)
                and not (near[-1][:1].isupper() and sentence.startswith(("Police", "Officials"), match.end()))
                and not (near[-1][:1].islower() and _RELATIVE.match(sentence, match.end()))):
            # ("Afghan National Police" is a name, not a caption's end and a sentence)
            pieces.append(sentence[start:match.start()].strip())
            start = match.end()
    pieces.append(sentence[start:].strip())
    return [p for p in pieces if p]


def _quote_state(sentence: str, opener: str) -> tuple[bool, str, bool]:
    """(does it open a quotation at its start, the mark of the quotation open at its end or "", does it close
    one it never opened), given the mark of the quotation open before it. English, German („…“, »…«), French
    («…»), Swedish (”…”) and CJK (「…」) quotations; apostrophes and elisions ('90s, 'til) are not quotes."""
    opens_first = stray = False
    for match in _QUOTE_MARK.finditer(sentence):
        i, ch = match.start(), match.group()
        before = sentence[i - 1] if i else " "
        after = sentence[i + 1:i + 2] or " "
        if opener:
            if ch not in _CLOSES[opener] or (before.isalpha() and after.isalpha()):
                continue  # a nested quotation's mark, or an apostrophe
            if ch in "’'" and before == "s" and after not in " ,.;:!?)\"”":
                continue  # the leaders' plan
            if ch in "\"'" and before.isspace() and after.isalnum():
                continue  # the quotation goes on in a new paragraph, reopened as the Daily Mail does: not a close
            opener = ""
        elif ch in "“‘«„「『" or (ch in "\"'»”" and not before.isalnum() and after.isalnum()):
            if ch in "‘'" and (before.isalpha() or _ELISION.match(sentence, i + 1)):
                continue  # rock 'n' roll, the '90s
            opener = ch
            opens_first = opens_first or sentence[:i].strip(" ([") == ""
        elif ch in "”»」』" or (ch == '"' and not before.isspace() and not before.isdigit() and not after.isalnum()):
            stray = True  # the end of a quotation that began in an earlier sentence
    return opens_first, opener, stray


def _parentheses(text: str, depth: int = 0) -> int:
    """Parentheses still open after `text`, `depth` of them open before it; a ")" with none open is a list
    marker ("a)") or a smiley, not a close."""
    for match in _PARENTHESIS.finditer(text):
        depth = depth + 1 if match.group() == "(" else max(0, depth - 1)
    return depth


def _is_prose(sentence: str, glued: bool) -> bool:
    """Real sentences only: page furniture ("Skip to content", "Subscribe"), captions, code and headings
    have no closing punctuation, too few words, a caption label or a credit."""
    if word_count(sentence) < 3 or not sentence.rstrip(_CLOSING + "“*†").endswith(_ENDS):
        return False
    if not_story(sentence) or headline_case(sentence) or _INTERVIEW_QUESTION.match(sentence):
        return False
    label = _LABEL.match(sentence)
    return not (label and not _SPEECH.search(label.group()) and (glued or word_count(sentence) > _LONG))


def word_count(sentence: str) -> int:
    """Words as a reader counts them: by spaces, and two characters a word in scripts written without spaces."""
    return len(sentence.split()) + len(_NO_SPACES.findall(sentence)) // 2


def _sentences_with_breaks(text: str) -> list[tuple[str, bool]]:
    """(sentence, starts a paragraph) pairs; every line break ends a paragraph."""
    lowercase = not any(ch.isupper() for ch in text[:4000])  # lowercased text: "... over. the next ..."
    out: list[tuple[str, bool]] = []
    for paragraph in _PARAGRAPHS.split(text):
        paragraph = " ".join(paragraph.split())
        first = True
        start = 0
        depth, counted = 0, 0  # parentheses open since `start`, counted up to `counted` (kept linear on long text)
        for match in (_CANDIDATE_GERMAN if "„" in paragraph else _CANDIDATE).finditer(paragraph):
            end = match.end()
            if end >= len(paragraph) or not _is_boundary(paragraph, start, match, lowercase):
                continue
            at = match.start(1)
            depth, counted = _parentheses(paragraph[counted:at], depth), at
            if depth > 0 and _closes(paragraph[at:at + PARENTHESIS_REACH], depth):
                continue  # a stop inside an aside that closes soon after: "(Yes, both were there. He spoke!)"
            sentence = paragraph[start:end].strip()
            if sentence:
                out.append((sentence, first))
                first = False
            start = counted = end
            depth = 0
        tail = paragraph[start:].strip()
        if tail and not first and out[-1][1] and _CREDIT_ALONE.fullmatch(tail):
            # A paragraph of one sentence and a credit: a caption ("... on Jan. 30, 2023. (Danilo Pavlov)").
            out[-1] = (f"{out[-1][0]} {tail}", out[-1][1])
        elif tail:
            out.append((tail, first))
    return out


def _ordinal(paragraph: str, start: int, match: re.Match, rest: str) -> bool:
    """A day number before a month name ("am 22. November"), or a German rank after an article ("zum 6. Mal", "des
    21. Jahrhunderts"): German and Nordic languages write them so, English never after these words."""
    month = rest.strip(_OPENING + ",.;:!?").lower()
    before = " ".join(paragraph[max(start, match.start() - WORD_REACH):match.start()].split()[-2:-1]).lower()
    if month in MONTHS or (before in RANK_BEFORE and rest[:1].isupper()):
        return True
    # "am 22. November", "Montag, 4. September", "Berlin, 22. November": English writes neither
    return month in SHARED_MONTHS and (before in ORDINAL_BEFORE or before.endswith(","))


def _closes(ahead: str, depth: int) -> bool:
    """Whether the parentheses open (depth of them) all close in `ahead`."""
    if ahead.count(")") < depth:
        return False
    for match in _PARENTHESIS.finditer(ahead):
        depth += 1 if match.group() == "(" else -1
        if depth <= 0:
            return True
    return False


def _is_boundary(paragraph: str, start: int, match: re.Match, lowercase: bool = False) -> bool:
    if match.group(1)[-1] in _FULL_STOPS:
        return True
    after = paragraph[match.end():match.end() + 1]
    # The word the punctuation ends and the one after it (looked at within a word's reach: no copy of the paragraph).
    token = paragraph[max(start, match.start() - WORD_REACH):match.start()].rsplit(" ", 1)[-1]
    rest = paragraph[match.end():match.end() + WORD_REACH].split(" ", 1)[0]
    if not match.group(2):
        if match.group(1) in "!?" and rest[:1].isupper() and rest[1:2].islower() and token[-1:].isalpha():
            return True  # "GROW!So you're": an exclamation glued to the next sentence
        # Glued sentences ("...website.He said"): a lower-case word, a stop, then a capitalised word; never a
        # decimal, initials, a domain or a path ("7.5", "U.S.", "example.com", "Bungie.net").
        rest = rest.lstrip("“‘\"'")  # "...afternoon.“It was a tough game,” said..."
        # "...timed better.EFH's Big Brown Coal Plant.": a caption's acronym glued to a long lower-case word
        acronym = len(token) >= 4 and token.isalpha() and token[1:].islower() and _GLUED_ACRONYM.match(rest) is not None
        return (match.group(1) in ".!?" and len(token) >= 2 and token[-2:].isalpha() and token[-2:].islower()
                and not any(c in token for c in "./@:=") and rest[:1].isupper() and (rest[1:2].islower() or acronym)
                and rest.rstrip(",;:!?'’\"”").replace("’", "").replace("'", "").replace("-", "").isalpha())  # not "sm.Inhibit($0,"
    if lowercase and after.isalpha():
        after = after.upper()
    caseless = after.isalpha() and after.upper() == after.lower()  # Hangul, Arabic, Hebrew, Thai...: no capitals
    if not (after.isupper() or caseless or after.isdigit() or after in _OPENING):
        return False
    if match.group(1)[-1] in "!?" and match.group(0).rstrip()[-1:] in _CLOSING and SPEAKER_AFTER.match(paragraph, match.end()):
        return False  # "“Why did you not tell the court?” Bennett asked the lawyers.": the quotation's speaker
    if not match.group(1).endswith(".") or match.group(1).endswith(".."):
        return True  # "!", "?", "…", "...": a question or exclamation inside a sentence keeps a lower-case word after
    word = token.lstrip(_OPENING).lower()
    if word in TITLES or (word.isdigit() and len(word) <= 2 and _ordinal(paragraph, start, match, rest)):
        return False
    if word == "ft" and token.lstrip(_OPENING)[:1] == "F":
        return False  # "Ft. Lauderdale" (Fort); "300 ft. Engineers" ends a sentence
    if word in BEFORE_NUMBER:
        return not after.isdigit()
    if after == "(" and _ASIDE_GOES_ON.match(paragraph, match.end()):
        return False  # "the work of Drath, et el. (2008) as discussed in...": the sentence goes on after the aside
    if 2 <= len(word) <= 6 and word.isalpha() and not token.lstrip(_OPENING).istitle() and token[-1:].islower() \
            and any(ch.isupper() for ch in token.lstrip(_OPENING)[1:]):
        return rest.strip(_OPENING).lower() in OPENERS  # "von LHStv. Anton Lang", not "an iPad. The"
    if (word in AMBIGUOUS or word.rsplit("-", 1)[-1] in AMBIGUOUS  # "President of Rapson-Inc. Chris Reedy are..."
            or (len(word) == 1 and word.isalpha()) or re.fullmatch(r"(?:[a-z]\.)+[a-z]", word)):
        # "Inc.", "p.m.", "U.S." and initials ("J. Smith", "World War I."): a boundary before "The", "He", ...
        following = rest.strip(_OPENING).lower()
        return following in OPENERS and not after.isdigit()
    return True
