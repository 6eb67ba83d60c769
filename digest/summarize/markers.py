"""Text-level furniture: the patterns cut from an article's text before it is split into sentences.

A wire story's dateline and agency tag, a byline run into the first sentence, the Daily Mail's time stamps, a
headline and a dated byline glued to the text, citation markers, pointers in parentheses. Each is a pattern of the
furniture itself (its words, its punctuation, its place at the top), written for no one site; furniture.py applies
them (strip_furniture) and judges whole sentences. Two more are looked for once the text is split: a verb of
speech (a label with one is a speaker, not a caption or a subhead) and a subhead run into its paragraph.
"""

from __future__ import annotations

import re

__all__ = ["FURNITURE_SUBS", "RARE_SUBS", "SPEAKER_AFTER", "SPEECH", "STORY_START", "STORY_START_CHARS", "STORY_START_PARAGRAPHS",
           "subhead"]

_DASH = r"(?:--|—|–| -)"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*"
# A wire dateline: a place in capitals (two places with a slash), maybe its region, a date and the agency, a dash:
# "SAN JOSE, Costa Rica — ", "TOKYO/SEOUL (Reuters) - ", "SAN JOSE, Dec 31 (Reuters) - "; and "Place (CNN) ".
_NOT_PLACES = r"(?!(?:NASA|NATO|OPEC|FIFA|UEFA|UNESCO|UNICEF|ASEAN|NOAA|IAEA|ESPN|NBA|NFL|NHS|UPDATE|BREAKING|WATCH)\b)"
_PLACE = r"(?:[A-Z][A-Z.'-]{3,}|[A-Z][A-Z.'-]+(?: [A-Z][A-Z.'-]+){1,3})"
_DATELINE = (_NOT_PLACES + _PLACE + r"(?:/" + _PLACE + r")?(?:, [A-Z][\w.']*(?: [A-Z][\w.']*){0,2})?"
             r"(?:,? [A-Z][a-z]{2,8}\.? \d{1,2})?(?: \([^()\n]{1,40}\))? ?(?:" + _DASH + r" |—)(?=[A-Z“\"])")
_AGENCY = (r"[A-Z][A-Za-z .,'-]{0,40}?\s*\((?:CNN(?: Business| Money| Politics| Travel| Style| Sport)?|AP|Reuters"
           r"|AFP|UPI|EW\.com|CNN Student News)\)\s*(?:--|—|–|-)?\s*")
# An agency's tag: "(AP) ", "(CBS/AP) ", "(CBS News) "; a dateline may follow it ("(CBS News) YOUNGSTOWN, Ohio - ").
_TAG = (r"\((?:CNN|AP|Reuters|AFP|UPI|EFE|dpa|ANSA|AAP|PTI|IANS|Xinhua|[A-Z]{2,}(?:/[A-Z]{2,})+|"
        r"(?:CBS|NBC|ABC|BBC|Fox|CNBC|Sky) News)\)")
STORY_START = re.compile(r"^(?:" + _TAG + r"\s*)?(?:" + _DATELINE + "|" + _AGENCY + ")", re.MULTILINE)
# Above a dateline only this much is taken for furniture (a caption, a headline, "Story highlights" and its two
# bullets); more text than that above one is the story itself, and the dateline a related story's teaser.
STORY_START_CHARS, STORY_START_PARAGRAPHS = 600, 4
# Furniture removed before splitting: datelines, Daily Mail bylines and time stamps, video prompts, citation markers.
FURNITURE_SUBS = [
    (re.compile(r"^" + _AGENCY, re.MULTILINE), ""),
    (re.compile(r"^" + _TAG + r"\s*\.?(?:--|—|–|-)?\s*", re.MULTILINE), ""),  # "(CBS/AP) At least...", before the dateline
    (re.compile(r"\A\s*" + _DATELINE), ""),
    (re.compile(r"\A\s*" + _MONTH + r"\.? \d{1,2}(?:st|nd|rd|th)?,? \d{4}\s*(?:--|—|–|-)\s*(?=[A-Z“\"])"), ""),  # "October 25, 2012 - BMW..."
    # A German dateline: "Düsseldorf, 22. November 2022 - Der Öko-Energieversorger...", "Berlin, den 3.5.2021: Die..."
    (re.compile(r"\A\s*[A-ZÄÖÜ][\wäöüß.-]+(?:[ /][A-ZÄÖÜ][\wäöüß.-]+){0,2},? (?:den )?\d{1,2}\.\s?(?:[A-ZÄÖÜ][a-zäöü]+|"
                r"\d{1,2}\.)\s?\d{4}\s*(?:--|—|–|-|:)\s*(?=[A-ZÄÖÜ„“\"])"), ""),
    # A dateline in mixed case with an agency's tag: "Pyongyang, October 30 (KCNA) — There is..."
    (re.compile(r"^[ \t]*[A-Z][a-z]+(?: [A-Z][a-z]+){0,2}, " + _MONTH + r"\.? \d{1,2}(?:, \d{4})? \([A-Z][A-Za-z]{1,10}\)"
                r"[ \t]*(?:--|—|–|-)[ \t]*(?=[A-Z“\"])", re.MULTILINE), ""),
    # The labels of a question-and-answer page: "A: You can buy a retail copy...", "Question: I need some help..."
    (re.compile(r"^(?:UPDATE|Update|UPDATED|Updated)(?: on [^:\n]{1,40}| [\d/.-]{3,10})?: (?=[A-Z])|^(?:A|Answer): (?=[A-Z])|^(?:Q|Question): (?=[A-Z][^?\n]*$)", re.MULTILINE), ""),  # a question
    # keeps its label: a labelled question is the interviewer's, never a summary sentence
    # A source tag before the story: "KVELLER via JTA — The state of Washington..."
    (re.compile(r"\A\s*[A-Z][A-Za-z.'&-]*(?: [A-Z][A-Za-z.'&-]*){0,3} via [A-Z][\w.'&-]*(?: [A-Z][\w.'&-]*){0,3}\s*(?:—|–|--)\s*"), ""),
    # The publication's name as a dateline: "Kaieteur News – Police investigators in Region Two..."
    (re.compile(r"\A\s*[A-Z][\w'.]*(?: [A-Z][\w'.]*){0,3} (?:News|Times|Post|Herald|Gazette|Observer|Tribune|Journal|Online)"
                r"\s*(?:–|—|--)\s*(?=[A-Z])"), ""),
    # A source in parentheses glued to the text's first word: "(The Hollywood Reporter)Stan Freberg, whose..."
    (re.compile(r"\A\s*\([A-Z][^()\n]{1,40}\)(?=[A-Z“\"‘'])"), ""),
    # A headline and a dated byline run into the text: "Portrait – Ann Reid By Tom Lee posted on May 3, 2012 6:00 pm Take..."
    (re.compile(r"\A\s*+(?:[^\n]{0,150}?\s)?By [A-Z][\w.'’-]+(?: [A-Z][\w.'’-]+){0,3},? (?:[Pp]osted |[Pp]ublished |[Uu]pdated )?"
                r"on " + _MONTH + r"\.? \d{1,2}(?:st|nd|rd|th)?,? \d{4}"
                r"(?:,? (?:at )?\d{1,2}:\d{2}(?:\s*[AaPp]\.?[Mm]\.?)?)?\s*(?:[|–—-]\s*)?(?=[A-Z“\"])"), ""),
    # A post's dated credit run into the text: "RedNotebook 1.6 Released Submitted by vf2nsr on November 12, 2012 - 3:03pm ..."
    (re.compile(r"\A\s*+(?:[^\n]{0,150}?\s)?(?:Submitted|Posted|Written) by \S{1,40} on " + _MONTH + r"\.? \d{1,2}(?:st|nd|rd|th)?,? "
                r"\d{4}(?:\s*(?:[-–—|@,]|at)?\s*\d{1,2}:\d{2}\s*(?:[AaPp]\.?[Mm]\.?)?)?\s*(?=[A-Z“\"])"), ""),
    # A byline run into the first sentence: "By Aaron Humes: The Americas cannot...", "From Denny: With about..."
    (re.compile(r"^(?:By|Por|Von|Par) [A-Z][\w.'’-]+(?: [A-Z][\w.'’-]+){1,3}\s*(?::|\||--|—|–)\s*(?=[A-Z“\"])|"
                r"^From [A-Z][\w.'’-]+(?: [A-Z][\w.'’-]+){0,2}:\s*(?=[A-Z“\"])", re.MULTILINE), ""),
    (re.compile(r"\A\s*[A-Z][a-z]+(?: [A-Z][a-z]+)?: (?=[A-Z][a-z])"), ""),  # "Mangaluru: Karnataka Bank has..."
    (re.compile(r"(?:^|(?<=\s))By \. [^.\n]{1,80}? \. (?:(?:PUBLISHED|UPDATED|Last updated at)[: .|]+[^|\n]*?\d{4}"
                r"\s*\.?\s*\|?\s*\.?\s*)*"), ""),
    (re.compile(r"(?:(?:PUBLISHED|UPDATED|Last updated at)[: .|]+[^|\n]{0,60}?\d{4}\s*\.?\s*\|?\s*\.?\s*)+"), ""),
    (re.compile(r"\bScroll down for (?:video|more)\b\.?", re.IGNORECASE), "\n"),
    # An agency or column tag before the story: "[Seoul=Newsis]", "【Beijing】".
    (re.compile(r"^(?:\[[^\]\n=]{1,40}=[^\]\n]{1,40}\]|【[^】\n]{1,40}】)\s*", re.MULTILINE), ""),
    (re.compile(r"\[(?:\d+(?:[-–,]\d+)*|[a-z]|citation needed|note \d+|edit)\]"), ""),
    # A pointer at a picture or a video inside a sentence: "Starlet (trailer below), out today", "(seen above)".
    (re.compile(r" ?\((?:see |seen |pictured |shown )?(?:[\w-]+ ){0,4}(?:below|above)\)|"  # "(which will be discussed below)"
                r" ?\((?:from )?(?:top|bottom)(?: left| right)?(?:, clockwise| to (?:bottom|right))?\)|"  # "(from top left, clockwise)"
                r" ?\((?i:pictured|im bild|bild|foto|photo|left|right|centre|center|inset|far left|far right)(?:,? (?i:left|"
                r"right|centre|center|above|below|top|bottom|with [\w ]{1,30}|second from (?:left|right)))*\)"), ""),  # "(Bild)"
    # A credit run into a sentence, a quotation's marker: "(c) proplanta Wie der Ressortchef...", "--- Zitat ---"
    (re.compile(r"(?:^|(?<=[.!?] ))(?:\((?i:c)\)|©) ?[\w.&-]+(?: [\w.&-]+){0,2}? (?=[A-ZÄÖÜ][a-zäöüß]+ )",
                re.MULTILINE), ""),
    (re.compile(r"(?<!-)-{3,8} ?[^\W\d_]{2,20} ?-{3,8}(?!-)"), "\n"),  # bounded runs: linear on a page of dashes
    # Bullets and widget words left at a paragraph's start: "• Share your photos", "CLOSE CEO of Tesla", "Image Police",
# "Email this Print this Skip to comments Why should...".
    (re.compile(r"^[ \t]*(?:(?:\\?[|•·▸►*][ \t]*)+|(?:CLOSE|ADVERTISEMENT|Advertisement|Image|Story highlights|Skip Ad)"
                r"[ \t]+(?=[A-Z]))", re.MULTILINE), ""),
    (re.compile(r"^[ \t]*(?:(?:Email|Print|Share|Tweet|Save) this[ \t]+)+(?:Skip to \w+[ \t]+)?(?=[A-Z])", re.MULTILINE), ""),
]
# Text-level cuts that need a string (the sub runs only where it is): pointers in parentheses ("(video link)", "(find
# yours here!)"), a whole-sentence aside in parentheses glued to the next sentence ("(Put the jar down. Seriously.) To
# make sure..."), a source credited at a paragraph's end ("-via Flavorwire"), a reporter's credit ("X reports: ...").
RARE_SUBS = [
    ("link)", re.compile(r" ?\((?:[\w-]+ ){0,2}link\)"), ""),
    ("(see ", re.compile(r" ?\(see (?:this|that|my|our|the|his|her|their) (?:[\w-]+ )?(?:post|article|story|piece|review|thread|video|page|link)s?\)"), ""),
    ("here", re.compile(r" ?\((?:[\w'’]+ ){1,3}here[.!]?\)"), ""),
    (".)", re.compile(r"(?:^|(?<=[.!?] ))\([^()\n]{1,200}[.!?]\) (?=[A-Z“\"])", re.MULTILINE), ""),
    ("for more)", re.compile(r" ?\((?:visit|see|go to|check out) [^()\n]{1,60} for more(?: information| details| info)?\)"), ""),
    # An imperative pointer in parentheses: "(use this handy converter to find out the time for you)"
    (" (", re.compile(r" \((?:use|try|click|visit|check out|grab|download|follow) (?:this|that|these|our|my) [^()\n]{1,80}\)"), ""),
    ("via ", re.compile(r"(?<=[.!?]) ?(?:-+ ?via [A-Z][\w.]*(?: [A-Z][\w.]*){0,2}|\(via [^()\n]{1,40}\))[ \t]*$", re.MULTILINE), ""),
    ("s: ", re.compile(r"^[A-Z][\w'’.-]*(?: [A-Z][\w'’.-]*){0,3} (?:reports|writes|explains):[ \t]+(?=[A-Z])", re.MULTILINE), ""),
]

SPEECH = re.compile(r"\b(?:said|says|told|added|asked|explained|wrote|tweeted|declared|insisted)\b", re.IGNORECASE)
# A name and a verb of speech after a quotation's "?" or "!": the same sentence ("“Why?” Bennett asked the lawyers.")
# and the speaker's part ends there, with at most five words more ("...?” Bennett asked the lawyers in court today."),
# never a pronoun ("...?” She says she didn't...") nor a name that goes on ("...?” Loeb said he filed a complaint...").
SPEAKER_AFTER = re.compile(r"(?!(?:He|She|I|It|They|We|You)\b)(?:[A-Z][\w.'’-]*\s){1,3}(?:said|says|asked|asks|told|added|"
                           r"replied|wrote|shouted|yelled|tweeted)(?:\s[\w'’-]+){0,5}[.,]")
# A subhead run into its paragraph: "Murray ruled out: The Dallas Cowboys could...", "Challenge Mode: Challenge Mode
# tasks players...", "TODAY: It's election eve...". Not a name ("Obama: The economy..." is a transcript's speaker).
_NOT_SUBHEAD = frozenset("believe believes think thinks say says response reaction verdict view answer message statement "
                         "claim claims warning advice conclusion ruling finding findings correction update note".split())
_SUBHEAD = re.compile(r"([A-Z][\w’'-]*(?: [\w’'-]+){0,2}): (?=[A-Z“\"‘'])")


def subhead(sentence: str) -> bool:
    """Whether a paragraph opens with a subhead run into it (see _SUBHEAD): a word in capitals, the label's own
    words again, or a label that is a phrase (a lower-case word in it) before "The", "A" or "An"."""
    found = _SUBHEAD.match(sentence)
    if not found or SPEECH.search(found.group()):
        return False
    label, rest = found.group(1), sentence[found.end():]
    if re.search(r"['’]s\b", label) or label.split()[-1].lower() in _NOT_SUBHEAD:
        return False  # who says it ("Trump's response: The report is fake...", "Police believe: The man fled")
    return (label.isupper() and " " not in label and len(label) >= 3 or rest.startswith(label + " ")
            or (any(w[:1].islower() for w in label.split()) and rest.startswith(("The ", "A ", "An "))))
