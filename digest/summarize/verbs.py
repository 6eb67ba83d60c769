"""Whether a sentence has a finite verb, by a part-of-speech tagger: HanTa, whose English and German models ship inside
its package (nothing is downloaded).

A noun phrase with a stop ("First class accommodation!", "Living under ISIS.", "Mit bestem Wissen und Gewissen in
den Bergwinter.") is not a sentence: blind readers counted such lines as fragments in about one summary in ten (issue
29, eighth round). readable.fragment tells them in English by word shapes alone; the tagger sees what shapes miss, and
reads German, whose nouns and verbs no shape tells apart. It errs too: on 1,722 CNN/DM sentences it found no finite
verb in 34, 15 of which have one ("Lewis Hamilton waves to the crowd", "the pair vowed"), so in English a word that
is a verb by its shape (a past in -ed, "is", "said", a word in -s after a name) overrules it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from digest.summarize.readable import FINITE_WORDS, english

__all__ = ["language", "verbless"]

# Small words of one language and not the other ("in", "an", "was", "will" are both).
_ENGLISH = frozenset("the of and to is that it for on are with as his they be at have this from by had not but were "
                     "which has would their".split())
_GERMAN = frozenset("der die das und ist nicht ein eine zu mit von den im sich auf für des dem auch es sind wird wie "
                    "einen einer nach bei aus zum zur".split())
# CLAWS 5 (English) and STTS (German) tags of a finite verb, an imperative among them.
_FINITE_EN = frozenset("VBB VBD VBZ VDB VDD VDZ VHB VHD VHZ VM0 VVB VVD VVZ".split())
_FINITE_DE = ("(FIN)", "(IMP)")
# A German verb the tagger read as an infinitive or a participle is finite all the same straight after a noun, a name
# or a pronoun: "Ländliche Regionen schrumpfen", "Ultium Cells investiert" (-en and -t forms are both); and an
# infinitive that ends the sentence is an instruction ("Mehl mit Hefe sorgfältig vermischen."): recipes are written so.
_SUBJECT_DE = ("NN", "NE", "PPER", "PIS", "PDS")
# What makes an English sentence a clause by its words, whatever the tagger says: an auxiliary or a common irregular
# past (readable.FINITE_WORDS but those that are nouns as often: "the cost"; not the plain forms: "conference call",
# and not the pronouns: "All that rigorous training." has none), a word in -ed, a word in -s
# straight after a name ("Lewis Hamilton waves"), a word after a plural that opens the sentence ("Governments
# exercise") or after a subject pronoun ("He averages"), a contraction ("we're", "Apple's on deck": the tagger reads
# that "'s" as a possessive).
_VERBS = FINITE_WORDS - {"cut", "set", "cost", "hit", "lay", "lit", "let", "put", "read", "left", "spread", "shot"}
_VERB_SHAPE = re.compile(r"\b[a-z]+ed\b|\b[A-Z][\w'’-]* [a-z]*[^\Ws]s\b|^[A-Z][a-z]+[^\Ws]s [a-z]+\b|"
                         r"\b(?i:he|she|it|they|we|i|you)\b(?! (?:and|or|to|for|with|of|at|in)\b) [a-z]+\b|'(?:re|ve|ll|m|d)\b|"
                         r"\w's (?:not|been|[a-z]+ing|a|an|the|on|in|at|up|out|off|back|just|still|also|never|here|there|"
                         r"all|about|no|so|too|very|now)\b")
_INFINITIVE = re.compile(r"\bto [a-z]+\b")
_TOKEN = re.compile(r"n't\b|'(?:s|re|ve|ll|m|d)\b|\w+(?:-\w+)*|[^\w\s]")
_WORD = re.compile(r"[^\W\d_]+")
# A subordinate clause with no main clause after it: "Unless we're still life folks.", "Because the council said so.",
# "Perhaps because there was more doing...", "Because it's that good, but also because I need a break."
# Matched against the sentence without its closing stop and marks: each character is a plain one or a comma that
# opens another "because", never both, so the match is linear however long the sentence.
_SUBORDINATE_ALONE = re.compile(r"^[\"'“‘(]?(?i:(?:perhaps|maybe|probably|possibly|partly|mainly|mostly|largely|simply|"
                                r"just|only) )?(?i:unless|because|although|whereas|whenever)\b(?:[^,;:—–]|,\s*(?i:but |and "
                                r"|or )?(?i:also |perhaps |maybe |partly |mostly )?(?i:because|since)\b)*$")
# A verb with no subject before it, in a sentence that is not a question: "Could have gone either way. . .", "Was
# great to see everyone." (a diary's or a teaser's shorthand); not "Will Smith stars..." nor "Do try the soup.".
_NO_SUBJECT = re.compile(r"^(?i:could|would|should|might|must|can|will|may|has|had|was|were|is|are)(?:n['’]t)? "
                         r"(?:not |never |just |really |only |probably |definitely )*(?:have |be |been )?[a-z]+\b[^?]*$")
# A question ("Not a fan of roller coasters?") and an exclamation ("What a perfect name for this cocktail!") are left
# alone: readers took them for the writer's voice.
_EXCLAMATION = re.compile(r"^[\"'“‘]?(?i:what|how|such|so)\b[^.]*!|\?[\"'”’)]*$")


def language(sentences: list[str]) -> str | None:
    """"en" where readable.english says so or English's small words outnumber German's, "de" where German's do,
    else None (another language, or too little text to tell); the first 40 sentences are looked at."""
    if english(sentences):
        return "en"
    words = [w.lower() for text in sentences[:40] for w in _WORD.findall(text)]
    english_words, german_words = sum(w in _ENGLISH for w in words), sum(w in _GERMAN for w in words)
    if max(english_words, german_words) < max(3, len(words) // 20):
        return None
    return "en" if english_words > german_words else "de"


def verbless(sentence: str, text_language: str | None) -> bool:
    """Whether a sentence in English or German (its own small words, else its text's language) has no finite verb;
    False for other languages."""
    words = [w.lower() for w in _WORD.findall(sentence)]
    english, german = sum(w in _ENGLISH for w in words), sum(w in _GERMAN for w in words)
    lang = "en" if english > german + 1 else "de" if german > english + 1 else text_language
    if not words or lang is None or _EXCLAMATION.search(sentence):
        return False
    text = re.sub(r"(?i)\b(\w+)(n't)\b", r"\1 \2", sentence.replace("’", "'").replace("annot ", "an not "))
    if lang == "en":
        finite = [w.lower() for w in _WORD.findall(_INFINITIVE.sub(" ", text))]  # "trying to get home": no verb; "cannot"
        # is "can not"
        bare = sentence.rstrip("\"'”’)")
        alone = bare.endswith((".", "…")) and _SUBORDINATE_ALONE.match(bare.rstrip(".…"))
        return bool(alone or _NO_SUBJECT.match(sentence)) or (not _VERBS.intersection(finite) and not _VERB_SHAPE.search(text)
                and not any(t[-1] in _FINITE_EN for t in _tag("en", text)))
    tags = [t[-1] for t in _tag("de", text) if not t[-1].startswith("$")]
    return not tags[-1:] == ["VV(INF)"] and not any(tag.endswith(_FINITE_DE) or (
        tag.startswith("V") and before.startswith(_SUBJECT_DE)) for before, tag in zip(["$."] + tags, tags))


def _tag(language: str, text: str) -> list:
    return _tagger(language).tag_sent(_TOKEN.findall(text), taglevel=1)


@lru_cache(maxsize=2)
def _tagger(language: str):
    """The language's model, loaded once per process when first asked (0.4 s): most texts never ask."""
    from HanTa import HanoverTagger  # imported here: the models load only where summaries are made
    return HanoverTagger.HanoverTagger("morphmodel_en.pgz" if language == "en" else "morphmodel_ger.pgz")
