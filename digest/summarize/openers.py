"""Openers that lean on what came before, beyond English's pronouns and connectives (readable.py): German and the other
languages feeds come in, a text that opens on a connective, and a sentence about the page's video or picture.

Each came from a blind read of outside pages (issue 29, ninth round, bench/README.md): "Denn für die Nashorn-Pagode
wächst..." as a text's first line (the extractor lost the sentence it answers), "Konkret will Covestro...", "Diese
Mär wird...", "Der Trailer gibt euch einen Überblick" (the trailer is on the page, not in the digest).
"""

from __future__ import annotations

import re

__all__ = ["CONNECTIVES", "LEANING_ABROAD", "leans_abroad", "media_subject", "opens_on_connective"]

# Connectives that answer a sentence, in English and in the languages feeds most often come in: the same words open
# a sentence that leans on the one before (readable._LEANING, LEANING_ABROAD) and, as a text's first line, one whose
# sentence the extractor lost (opens_on_connective; pronouns there may point at the headline).
CONNECTIVES = (r"but|and|or|nor|however|meanwhile|moreover|furthermore|instead|therefore|thus|hence|otherwise|"
               r"nevertheless|nonetheless|likewise|similarly")
_CONNECTIVES_ABROAD = (r"und|aber|denn|doch|konkret|zudem|außerdem|allerdings|jedoch|dennoch|stattdessen|somit|ferner|"
                       r"immerhin|deshalb|daher|trotzdem|insbesondere|in der tat|vor allem|mais|donc|pero|maar")
# Those and personal pronouns abroad (not "Es"/"Il", which open "Es gibt"/"Il y a" sentences that point nowhere),
# followed by a lower-case word: "Ma il governo...", never "Ma Ying-jeou said..." or "Lei Jun, the founder...".
LEANING_ABROAD = re.compile(
    r"^[\"'“‘„«(]?(?i:" + _CONNECTIVES_ABROAD + r"|dann|auch|dies|diese|ebenso|dabei|dazu|darum|dafür|dagegen|"
    r"hierbei|hierzu|daraufhin|ebenfalls|puis|ensuite|cependant|elle|elles|ils|entonces|también|además|ella|ellos|mas|"
    r"então|também|porém|ele|ela|eles|elas|ma|quindi|poi|lui|lei|toen|ook|hij|zij|но|а|и|тогда|также|поэтому|он|она|"
    r"они|это),? +[^\W\d_]")
# A German demonstrative and its noun ("Diese Mär wird...", "Dieses Problem"): the thing was named before, unless it
# is the time of the writing ("Diese Woche", "Dieses Jahr").
_DEMONSTRATIVE_DE = re.compile(r"^[\"'„«(]?(?:Diese[rsmn]?|Jene[rsmn]?|Solche[rsmn]?) (?!(?:Woche|Jahr|Monat|Sommer|"
                               r"Winter|Frühjahr|Frühling|Herbst|Wochenende|Saison|Mal|Tage?|Nacht|Morgen|Abend)\b)"
                               r"[A-ZÄÖÜ]")
# "dafür beispielsweise", "dabei etwa": an example of something the sentence before said.
_EXAMPLE_DE = re.compile(r"\b(?i:dafür|dazu|dabei|davon|darunter|hierfür|hierzu) (?i:beispielsweise|zum beispiel|etwa)\b")
# A text's first line on a connective: in English whatever follows ("But Obama said..."); elsewhere a lower-case word.
_CONNECTIVE = re.compile(r"^[\"'“‘(]?(?i:" + CONNECTIVES + r")\b(?!-)[,:]? +\S")
_CONNECTIVE_ABROAD = re.compile(r"^[\"'„«(]?(?i:" + _CONNECTIVES_ABROAD + r"),? +[^\W\d_]")
# A sentence about the page's own media: "The clip is from...", "Der Trailer gibt euch...", "The footage shows...".
_MEDIA = (r"video|clip|trailer|teaser|footage|photo|photograph|picture|image|graphic|chart|gallery|slideshow|"
          r"infographic|screenshot|foto|bild|grafik|galerie|bildergalerie")
_MEDIA_SUBJECT = re.compile(r"^[\"'“‘„(]?(?i:the|this|that|these|those|der|die|das|dieses|dieser|diese|im|in dem) "
                            r"(?i:(?:new|short|full|latest|first|official|neue|kurze|offizielle|folgende)n? )?"
                            r"((?i:" + _MEDIA + r"))(?:s|en|n)?\b")


def leans_abroad(sentence: str) -> bool:
    """A connective or pronoun of another language ("Denn für...", "Ma il governo") or a German demonstrative and its
    noun ("Diese Mär"), or "dafür beispielsweise": what it leans on is the sentence before."""
    found = LEANING_ABROAD.match(sentence)
    return (bool(found and found.group()[-1].islower()) or bool(_DEMONSTRATIVE_DE.match(sentence))
            or bool(_EXAMPLE_DE.search(sentence)))


def opens_on_connective(sentence: str) -> bool:
    """Whether a sentence opens on a connective ("But the", "Denn für", "However, the"): as a text's first line it
    answers a sentence the extractor lost."""
    abroad = _CONNECTIVE_ABROAD.match(sentence)
    return bool(_CONNECTIVE.match(sentence)) or bool(abroad and abroad.group()[-1].islower())


def media_subject(sentence: str, before: list[str]) -> bool:
    """Whether a sentence is about the page's video or picture ("The clip is from...") that none of `before` (the
    summary's sentences before it) mentions: the reader of a digest sees no such thing."""
    found = _MEDIA_SUBJECT.match(sentence)
    if not found:
        return False
    noun = found.group(1).lower()
    return not any(noun in text.lower() for text in before)
