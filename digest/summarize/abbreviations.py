"""Words that end with a period without ending a sentence (split.py's boundaries), by how sure we are, in the
languages feeds come in most: titles, abbreviations before a number, ordinals before a month, German ranks."""

from __future__ import annotations

__all__ = ["AMBIGUOUS", "BEFORE_NUMBER", "MONTHS", "OPENERS", "ORDINAL_BEFORE", "RANK_BEFORE", "SHARED_MONTHS",
           "TITLES"]


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Titles before a name never end one ("Mr. J. Smith", "Dr. Jones", "e.g. this").
TITLES = _wordset(
    "mr mrs ms dr prof st mt gen col lt sgt capt cmdr adm gov sen rep pres rev hon fr supt det insp messrs mme spc pvt "
    "cpl pfc maj brig cdr atty del rt "
    "mlle e.g i.e cf vs viz approx ca nr ave blvd mgr "
    "sog bzw ggf evtl vgl inkl zzgl bspw insb mio mrd tsd ste apt"  # German: "vom sog. Digital Darwinismus" (nouns are capitalised)
    " sra srta dña вул просп пров пл бул ім акад проф доц д-р"  # "la Sra. López", "вул. Закревського", "ім. Шевченка"
)
# Only an abbreviation before a number: "No. 10", "Sept. 1, 2022", "Fig. 3" (but "The answer was no. Then").
BEFORE_NUMBER = _wordset(
    "no nos vol pp fig figs art sec ch op ed jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed "
    "thu thur thurs fri sat sun hwy rte "
    "max min abs nr ziff kap tel str bd jg"  # German: "für bis zu max. 6 Personen", "Art. 90 Abs. 2 SVG"
)
# Often end a sentence too ("... in the U.S. The talks"): a boundary only before a typical sentence opener.
AMBIGUOUS = _wordset("etc inc ltd co corp plc llc bros jr sr dept est govt al mtn bldg")
# A day number with a stop before a month is an ordinal ("am 22. November", "le 3. mai" is not, but harmless).
MONTHS = _wordset(
    "januar jänner februar märz mai juni juli oktober dezember januari februari maart mei augustus "
    "juni juli oktober janvier février mars avril juin juillet août septembre octobre novembre décembre"
)
# Spelled as in English: an ordinal only after a German or Nordic word ("am 22. November", "den 3. april"), since
# "minus 12. December was the coldest" is two English sentences.
SHARED_MONTHS = _wordset("april august september november december")
ORDINAL_BEFORE = _wordset("am im zum vom von vor nach zwischen bis ab seit den dem der til fra og und oder per innen")
RANK_BEFORE = _wordset("beim zum vom im zur der die das des dem den und oder bis")
OPENERS = _wordset(
    "the a an he she it they we i you this that these those there here his her its their our my your if when while "
    "as after before but and so yet or in on at for from by with since despite although though however meanwhile "
    "also then now still some many most one two both all no not what why how who where mr mrs ms dr besides instead "
    "indeed earlier later last next according under during among another each every such only even just"
)
