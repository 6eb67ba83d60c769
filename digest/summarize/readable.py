"""What makes a chosen sentence unreadable out of its place.

A summary is read cold, in an email, without the article around it. A
sentence that opens with "He", "But" or "The 39-year-old" points back at
something the reader was never shown; a bare surname ("Randall-Gay's mother
complained") is only meaningful after the sentence that gave the full name.
These checks are deliberately word-level and cheap: they cannot resolve
references, only refuse the sentences that plainly depend on one.
"""

from __future__ import annotations

import re

from digest.summarize.openers import CONNECTIVES, leans_abroad

__all__ = ["FINITE_WORDS", "NOW", "VERB_WORDS", "dangling_names", "english", "fragment", "leans_on_adjacent",
           "leans_on_previous", "name_intros", "pronoun_dangles", "starts_mid_sentence", "stem"]

# Openers that point back: pronouns, demonstratives, connectives, "The 39-year-old", "The former captain".
# "This week", "This summer": the time of the writing, not a thing named before.
NOW = (r"(?:(?:past|last|coming|next) )?(?:week|weekend|morning|afternoon|evening|year|month|summer|winter|spring|"
       r"autumn|fall|season|semester|"
       r"term|century|decade|(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b")
_LEANING = re.compile(
    r"^[\"'“‘(]?(?:he|she|it|they|them|his|her|hers|its|their|theirs|him|this(?! " + NOW + r")|that|these|those|"
    + CONNECTIVES + r"|so|yet|also|still|then|besides|again|later|afterwards|"
    r"here|both|neither|either|another|other|others|the (?:\d+-year-old|former|latter|same|pair|couple|duo|"
    r"trio|man|woman|boy|girl|star|player|club|company|firm|group|move|decision|incident|case|answer|upshot|catch))\b",
    re.IGNORECASE)
# Openers that answer or continue the sentence just before, so they read only straight after it: connectives and
# rhetorical turns ("Who knew...", "This means", "As a result"), and a connective after the first phrase ("The
# company, however, said...").
_CONNECTIVE = (r"plus(?=,)|next(?=,)|specifically(?=,)|(?:next|then) came|however|meanwhile|moreover|furthermore|nevertheless|nonetheless|therefore|thus|hence|instead|"
               r"otherwise|besides|likewise|similarly|still|yet|but|and|or|so(?! far)|nor|also|then(?!-)|rather(?! than)|now(?=,)|namely|for example|for instance|in other words|that is(?=,)|for one thing|for starters|"
               r"first of all|to begin with|on top of that|in short|in sum|to sum up|in summary|put simply|simply put|"
               r"accordingly|consequently|conversely|to wit|as a consequence|in the meantime|(?:worse|better|more|other|even more) than (?:that|this)|"
               r"(?:beyond|apart from|aside from) (?:that|this)|"
               r"there(?:['’]s| is) that|which is to say|who knew|guess what|no wonder|not only that|what['’]?s more|even so|either way|in any case|at any rate|anyway(?=,)|in fact|as a result|in addition|"
               r"in response|in turn|to that end|by contrast|in contrast|on the other hand|at the same time|since then|"
               r"despite (?:this|that|these|those|it)|that['’]?s why|that is why|which means|as such|for that reason|"
               r"because of (?:this|that)|not surprisingly|of course|after all|even then|until then|by then|"
               r"(?:this|that|it) (?:means|meant|is why|was why)|(?:all )?jokes aside|(?:that|this) aside|(?:that|this) said|"
               r"[a-z]+(?: [a-z]+){0,3} aside(?=,)|"  # "Better communications aside, the world has another..."
               r"having said (?:that|this)|with (?:that|this) (?:said|in mind|out of the way)|"
               r"(?:like|as) (?:i|we)(?:['’]ve| have)? (?:said|mentioned|noted|wrote)(?: (?:before|earlier|above))?(?=,)")
# A reaction ("Wow, now that's...", "Well, ...", "Unless you drive, that is."), a participle with no subject ("Giving us the cleanest shot yet.")
# and a whole sentence in parentheses (an aside on the one before) also answer the sentence before them.
_REACTION = (r"(?:wow|oh|ah|well|okay|ok|alright|all right|yes|yep|no|nope|sure|sorry)\s*[,!]|like\s*(?:\.\.\.|…)|[^.!?]{1,200}, that is[.!]$|"
             r"[A-Z][a-z]{2,}ing (?:us|them|him|her|it|me|you|why|what|how|whether)\b|\((?:[^()]|\([^()]*\))*\)[.!?…]*$")
_ADJACENT = re.compile(r"^[\"'“‘]?(?:" + _REACTION + r")|"
                       r"^[\"'“‘(]?(?:" + _CONNECTIVE + r")\b|^[^,.!?;:]{1,60},\s*(?:however|though|meanwhile|"
                       r"nevertheless|nonetheless|therefore|moreover|in turn|in fact|too|instead|by contrast|in contrast|"
                       r"for (?:its|his|her|their) part|as a result|in response|in addition|then|for instance|for example)\s*,|"
                       r"^[^,.!?;:]{1,60}\s(?:though|however),|^which\b(?=[^?]*$)", re.IGNORECASE)  # "One thing's for sure though, ..."
# A personal pronoun after an opening phrase ("In a statement, she said..."): it too points back.
_LATE_PRONOUN = re.compile(r"^[^.!?,]{1,80},\s*(?:he|she|they|his|her|their)\b")
# The same after a short opening phrase with no comma and no name: "In many cases they already have..."
_PHRASE_PRONOUN = re.compile(r"^(?i:in|on|at|for|after|before|during|with|without|since|until|by|from|unlike|like|"
                             r"under|over|within|throughout) (?:[a-z0-9'’-]+ ){1,3}(?:he|she|they)\b")
# A plural pronoun near the start, which the checks above found opening the sentence.
_PLURAL = re.compile(r"\b(?i:they|them|their)\b")
PLURAL_REACH = 60  # characters: where the pronoun that opens a sentence (after an opening phrase) may stand
QUESTION_WORDS = 3  # words: a question this short is rhetorical ("Need an example?"), the sentence after it its answer (5 cost CNN/DM 0.05 ROUGE-1)
# A thing named as known ("The vehicle", "that theme") and a thing introduced ("a vehicle", "a common theme"): the
# word after the article, and the one after that (an adjective may come first).
_DEFINITE = re.compile(r"\b(?i:the|that|this) ([a-z]{3,})(?: ([a-z]{3,}))?\b")
_INDEFINITE = re.compile(r"\b(?i:an?|one) ([\w-]+)(?: ([a-z]{3,}))?\b")  # "a new van", "One group of organisers, known
# as...": two words. Three with capitalised ones ("a Freelance Writing Course" / "The course runs...") cost CNN/DM 0.04
# ROUGE-1 and -2 ("a Manchester United spokesman" / "The spokesman added"), so not taken
_NOT_NOUNS = frozenset("and for the with that this from was were are has had have will would can could not but who which its "
                       "his her their our your all any one two out off into onto over about after before than then".split())
DEFINITE_REACH = 45  # characters: where such a word makes the sentence lean on the one before
INTRODUCED_REACH = 2  # sentences back: further than that a reader may have lost the thing anyway
# "It" standing for a thing ("It was quite delicious") reads only straight after the sentence naming the thing; an
# "It" that points forward ("It is unclear whether...", "It emerged that...") points at nothing skipped.
_IT = re.compile(r"^[\"'“‘(]?(?:it|its)\b|^[^.!?,]{1,80},\s*(?:it|its)\b", re.IGNORECASE)  # "Despite that, it..." too
_EXPLETIVE_IT = re.compile(
    r"^[\"'“‘(]?it(?:['’]s| is| was| has been| had been| will be| would be| seems| seemed| appears| appeared| remains| "
    r"remained)\b(?: [\w,-]+){0,4}? (?:that|to|whether|how|why|when|if|what|who|unclear|not clear|likely|unlikely)\b|"
    r"^[\"'“‘(]?it (?:takes|took|comes|came|emerged|is understood|was understood|is believed|is thought)\b", re.IGNORECASE)
# "them", "him" or "her" among the first words ("You can watch them all in half an hour.", "I met him in Chiang
# Mai"), or "it"/"them" ending a short sentence ("Students will also benefit from it."), or an imperative's
# "that"/"it" before a particle ("Strip that away and..."): the thing is in the sentence before.
_OBJECT = re.compile(r"^[\"'“‘(]?(?:[\w'’-]+ ){1,4}(?:them|him|her)\b|^(?:[\w'’-]+ ){1,6}(?:it|them)[.!]$|"
                     r"^[\"'“‘(]?[a-z]+ (?:that|this|it) (?:away|out|off|up|down|back|aside|apart)\b", re.IGNORECASE)
# A quotation said by a pronoun: "'I applied ten years ago,' he says."
_SAID_PRONOUN = re.compile(r"[,!?…][\"”’']\s+(?:he|she|they)\s+(?:said|says|added|adds|told|explained|wrote|continued|"
                           r"insisted|asked)\b")
# Pronouns that stand for someone or something named just before: after a skipped sentence they point at nothing.
_PRONOUN = re.compile(r"^[\"'“‘(]?(?:(?:maybe|perhaps|suddenly|finally|eventually|soon|then|later|clearly|apparently|"
                      r"obviously|surely|probably|still|even|only|also|instead|again|once) )?"  # "Maybe she was..."
                      r"(?:(?:why|how|what|where|when|who|as|while|after|before|because|since|if|although|though|once|"
                      r"until|unless|whenever) )?"  # "Why didn't they use...?", "As he did, I took..."
                      r"(?:(?:(?:was|were|is|are|did|does|do|had|has|have|could|would|will|can|should)(?:n['’]t)?|"
                      r"won['’]t|can['’]t) )?"
                      r"(?:he|she|they|him|her|his|hers|them|their|theirs|it|its)\b", re.IGNORECASE)  # "Was she...?" too
_POSSESSIVE = re.compile(r"['’]s$")
_QUANTITY = (r"(?:only |just |about |nearly |almost )?(?:one|two|three|four|five|six|some|many|most|all|none|each|both|"
             r"few|several|half|any|neither|either|\d+)")
# "Some of his supporters...": a personal pronoun all the same.
_QUANTITY_PRONOUN = re.compile(r"^[\"'“‘(]?" + _QUANTITY + r" of (?:his|her|their|its)\b", re.IGNORECASE)
_DEMONSTRATIVE = re.compile(r"^[\"'“‘(]?(?:this(?! " + NOW + r")|that|these|those|such)\b|"  # "This weekend" is a time
                            r"^[\"'“‘(]?the (?:short |simple |real )?(?:answer|cons|pros|catch|upside|downside|upshot|verdict)\b|"
                            r"^(?:one|the other|another|the first|the second) (?:is|was) (?:that|to|the|a)\b|"  # "One is that..."
                            r"^[^.!?,]{0,30}\b(?:this|that|these|those) ones?\b|"  # "With this one, I'm..."
                            r"^[\"'“‘(]?" + _QUANTITY + r" of (?:them|these|those|this|that)\b|"  # "Only two of them are..."
                            r"^[^.!?,]{0,30}\b(?:this|these) (?!(?:past |last |coming |next )?(?:year|week|month|morning|"
                            r"afternoon|evening|night|weekend|season|summer|winter|spring|autumn|time|article|story|post|"
                            r"video|page|(?:mon|tues|wednes|thurs|fri|satur|sun)day)s?\b)[a-z]|"
                            r"^[\"'“‘(]?(?:since|because|as|if|while|when|although|though|given that) (?:this|that|these|those) "
                            r"(?:is|are|was|were|has|have|had|will|would|can|could|seems?|seemed|means?|meant)\b",
                            re.IGNORECASE)  # "Since these are my two favourite things, I've..."
# "The latter" anywhere ("while the latter two were made..."), "the former" as a noun: the sentence before says which.
_LATTER = re.compile(r"\bthe latter\b|\bthe former(?= (?:one|two|three|category|group|option|case|approach)\b|[,.;:])|"
                     r"\bthe (?:first|second|third|last|other) (?:was|is|were|are|has|had|will|would)\b",  # "The first was written in 1967"
                     re.IGNORECASE)
# A finite verb, or what may be one: an auxiliary, a common irregular past, a contraction, a lower-case word in -s or
# -ed, a subject pronoun. A sentence with none is a noun phrase: a list item's description or a fact box's line
# ("Sports broadcaster for a radio network.", "Chief Executive of the Carrow Harbour Trust."), which leans on its
# item's heading.
_VERB_WORDS = (
    "is are was were be been am has have had do does did will would can could may might must shall should said made "
    "won took went got came saw ran left began found told gave led lost met paid put set sold sent spent stood thought "
    "wrote held kept knew brought built bought became fell felt grew heard hit let meant rose shot struck threw wore "
    "cut quit read beat broke caught chose drew drove ate fought flew hid hung lay lit rode sang sank sat slept spoke "
    "stole stuck taught tore understood woke dealt fed hurt shut spread cost i we you they he she it there who which "
    "that "  # and the commonest verbs' plain forms, for a plural subject that is a name or a capital ("Satellites fall")
    "fall eat say go come make take get see know think want need like use find give tell work call try ask seem feel "
    "leave keep begin help show hear play run move live believe bring happen sit stand lose pay meet include continue "
    "learn change understand watch follow stop create speak spend grow open walk win offer remember love consider "
    "appear buy wait serve die send expect build stay reach kill remain suggest raise pass sell require decide pull "
    "occur agree support face look turn hold carry mean fly drive sleep fight share claim argue warn fear hope").split()
# A word before an article that is not a verb ("for a", "of the"); any other may be one ("consider the end").
_NOT_VERBS = (r"(?:for|of|in|on|at|to|from|with|by|into|onto|over|under|about|and|or|but|as|than|like|near|off|per|"
              r"via|across|after|before|behind|between|through|during|without|within|towards?|upon|against|among|around|"
              r"all|just|only|also|not|once|half|quite|such|what|rather)")
_VERBISH = re.compile(r"\b(?:" + "|".join(_VERB_WORDS) + r")\b|n['’]t\b|['’](?:s|re|ve|ll|m|d)\b|\b[a-z]+(?:ed|s)\b|"
                      r"\b(?!" + _NOT_VERBS + r"\b)[a-z]+ (?:a|an|the)\b")  # matched against lower case
VERB_WORDS, FINITE_WORDS = frozenset(_VERB_WORDS), frozenset(_VERB_WORDS[:_VERB_WORDS.index("i")])  # no plain forms
# A sentence that opens with a determiner, a number, a preposition or a list's first item ("16 current titles...",
# "From a bike blog, how to...", "Foreign, security and development policy & analyses.") is no imperative: there,
# a word in -s or -ed cannot be finite by its place: after "to" (an infinitive), or after a determiner, a
# preposition or "and"/"&", maybe with an adjective between ("with new ones", "into panniers"), a word in -s after a
# plural determiner or a number ("two weeks", not "This makes", "VYBE 15 starts" or "Two died"), when the phrase
# ends there or goes on with "and", "with" or "to" (not "The new rules apply", "His memories of it remind him"). A
# name, or a comma, before a word that may be a verb ("Biden and Sanders lead", "In a pan, heat the oil"): a verb.
_DETERMINER = (r"(?:a|an|the|my|your|his|its|our|their|no|every|other|such|of|in|on|at|for|with|by|from|into|onto|over|"
               r"under|about|between|through|without|within|across|against|among|around|near|per|via|during|upon|and|or|nor|&)")
_PLURAL_DETERMINER = (r"(?:these|those|some|many|few|several|all|both|(?<!X )\d(?:[\d,.]*\d)?|two|three|four|five|six|"
                      r"seven|eight|nine|ten|twelve|dozens|hundreds|thousands|millions)")
_CLOSED = r"(?:" + _DETERMINER + "|" + _PLURAL_DETERMINER + r"|this|that|each|one|any)"
_ADJECTIVE = r"(?:new|old|big|small|great|good|best|top|first|last|next|other|own|latest|free|full|current|recent|major|main) "
_NOT_FINITE = re.compile(r"(?<!\S)(" + _DETERMINER + " (?:" + _ADJECTIVE + r"|[a-z]+ |X )?|" + _PLURAL_DETERMINER + " (?:" + _ADJECTIVE
                         + r")?(?![a-z]+ed\b))(?!(?:" + "|".join(_VERB_WORDS) + r")\b)[a-z]+(?:s|ed)\b(?!['’])"
                         r"(?=[^\w\s]*$|[^\w\s]*\s+(?:and|or|nor|&|with|to)(?!\S))|"
                         r"(?<=\bto )(?:(?:be|have|get) )?(?!(?:a|an|the|this|that|these|those|my|your|his|her|its|our|their)\b)[a-z]+\b ?")
_OPENS_PHRASE = re.compile(_CLOSED + r"[,.;:]?")
_NAME_VERB = re.compile(r"(?:\bX|\S,) (?!(?:" + _CLOSED + r"|to|X|Y|how|what|why|where|when|who|which)(?!\S))[a-z]")
_ENGLISH = frozenset("the of for and with to is in a".split())
ENGLISH_SHARE = 0.12  # of a text's words: English prose has more of these (German or Spanish prose about none)
_CONTRACTION = re.compile(r"n['’]t\b|['’](?:s|re|ve|ll|m|d)\b")
FRAGMENT_WORDS = 20  # words: a noun phrase this long or longer is more likely a sentence with a verb we miss


def fragment(sentence: str) -> bool:
    """A noun phrase with a stop, not a sentence: no word in it can be a finite verb. Capitalised words are not
    looked at ("Sports", "Reports" are names or the phrase's head), except a first word that is a subject or an
    auxiliary ("They", "Was")."""
    words = sentence.split()
    if not 3 <= len(words) < FRAGMENT_WORDS:
        return False  # a sentence of a language written without spaces is one "word": no judging
    first = words[0].strip("\"'“‘(").lower()
    rest = " ".join(w for w in words[1:] if not w[:1].isupper() or w == "I" or w[:2] in ("I'", "I’")).lower()
    if (first in VERB_WORDS and first != "like") or _CONTRACTION.search(first):
        return False  # "Like the one behind new shopping site X." is a preposition's phrase; "Like us on..." is furniture
    if not _VERBISH.search(rest):
        return True
    if not (_OPENS_PHRASE.fullmatch(first) or words[0].endswith(",")):
        return False  # "Pour batter over cherries.", "Governments exercise control over companies.": imperatives
        # and plain verbs outside the list are many; only the plurals above tell them
    marked = " ".join(("Y" if w.endswith(("'s", "’s")) else "X") if w[:1].isupper() and w != "I" and w[:2] not in ("I'", "I’")
                      else w.lower() for w in words[1:])  # a name, or a name's ("Ann's garden")
    marked = _NOT_FINITE.sub(lambda m: m.group(1) or "", first + " " + marked)  # nouns and infinitives out
    return not (_VERBISH.search(marked, len(first)) or _NAME_VERB.search(marked, len(first)))


_NAME = re.compile(r"\b[A-Z][a-z]+(?:[-'’][A-Z]?[a-z]+)?\b")
_TITLE_WORDS = frozenset(
    "Mr Mrs Ms Miss Dr Prof Sir Dame Lord Lady President Senator Governor Judge Captain Coach Officer Detective "
    "Sergeant Chief Inspector Minister Rev Pope King Queen Prince Princess General Colonel Major".split()
)
# Capitalised words that are not names: sentence openers, months, days, and the like.
_NOT_NAMES = frozenset(
    "The A An He She It They We I You This That These Those There Here His Her Its Their Our My Your If When While "
    "As After Before But And So Yet Or In On At For From By With Since Despite Although Though However Meanwhile "
    "Also Then Now Still Some Many Most One Two Both All No Not What Why How Who Where Monday Tuesday Wednesday "
    "Thursday Friday Saturday Sunday January February March April May June July August September October November "
    "December According Last Next Earlier Later Today Yesterday "
    "Der Die Das Den Dem Des Ein Eine Einen Einem Im Am Mit Bei Nach Von Vom Für Auf Aus Zum Zur Vor".split()  # German
) | _TITLE_WORDS



def leans_on_previous(sentence: str) -> bool:
    """Whether a sentence cannot open a summary: it starts with a pronoun, a connective, lower case or
    the rest of a quotation."""
    return bool(_LEANING.match(sentence)) or leans_abroad(sentence) or starts_mid_sentence(sentence)


def starts_mid_sentence(sentence: str) -> bool:
    """Lower case first, or the rest of a quotation: a piece of a sentence, wherever it stands."""
    return sentence.lstrip("\"'“‘([ ….")[:1].islower() or sentence[:1] in "”’"  # "… we need not marvel" too


def leans_on_adjacent(sentence: str) -> bool:
    """Whether a sentence reads only straight after the one before it: it answers or turns on it ("However,",
    "Who knew", "This means", "The firm, however, said")."""
    return bool(_ADJACENT.match(sentence))


def _opens_with_pronoun(sentence: str) -> bool:
    """A personal pronoun first, or first after an opening phrase that names nobody ("In a statement, she..."), or
    a quotation said by a pronoun ("'I applied ten years ago,' he says.": who is he?)."""
    if (_PRONOUN.match(sentence) or _SAID_PRONOUN.search(sentence) or _QUANTITY_PRONOUN.match(sentence)
            or _PHRASE_PRONOUN.match(sentence)):
        return True
    late = _LATE_PRONOUN.match(sentence)
    return bool(late) and not any(_NAME.fullmatch(w.strip("\"'“”‘’(),.;:")) and w.strip("\"'“”‘’(),.;:") not in _NOT_NAMES
                                  for w in late.group().split()[1:])


def pronoun_dangles(i: int, sentences: list[str], chosen: list[int]) -> bool:
    """Whether sentence i opens with a word that would point into a skipped sentence: a personal pronoun
    ("She added that an appeal...") when the sentences between the last chosen one before it and it name
    someone, or nothing before it is chosen at all; a demonstrative ("This lets you...") unless the sentence
    just before it is chosen."""
    if i and i - 1 not in chosen and _answers(sentences[i - 1]):
        return True  # "Need an example? Play the new game...": the answer to a short question reads only after it
    if _introduced_before(i, sentences, chosen):
        return True
    if (_IT.match(sentences[i]) and not _EXPLETIVE_IT.match(sentences[i])) or _OBJECT.match(sentences[i]):
        return i - 1 not in chosen
    if _DEMONSTRATIVE.match(sentences[i]) or _LATTER.search(sentences[i]):
        return i - 1 not in chosen  # "This lets you...", "Those issues...": only straight after what they point at
    if not _opens_with_pronoun(sentences[i]):
        return False
    if _PLURAL.search(sentences[i][:PLURAL_REACH]):
        return i - 1 not in chosen  # "they" stands for the last sentence's subject, often no name ("Buyers who...")
    earlier = [j for j in chosen if j < i]
    if not earlier:
        return True
    return any(names_someone(sentences[k]) for k in range(max(earlier) + 1, i))


def _answers(question: str) -> bool:
    """A short question the next sentence answers ("Need an example?", "The result?")."""
    return question.rstrip("\"'”’)").endswith("?") and len(question.split()) <= QUESTION_WORDS


def _introduced_before(i: int, sentences: list[str], chosen: list[int]) -> bool:
    """Whether sentence i, near its start, names with "the" or "that" a thing the skipped sentence(s) just before it
    introduced with "a" ("A vehicle driven by... was southbound" / "The vehicle was unable to avoid the deer"; "a
    common theme" / "what that theme is"): the reader was never told which one."""
    nouns = {w.lower() for m in _DEFINITE.finditer(sentences[i]) if m.start() < DEFINITE_REACH for w in m.groups()
             if w} - _NOT_NOUNS
    if not nouns:
        return False
    for j in range(i - 1, max(-1, i - 1 - INTRODUCED_REACH), -1):
        if j in chosen:
            return False
        if any(w.lower() in nouns for words in _INDEFINITE.findall(sentences[j]) for w in words if w):
            return not any(n in sentences[k].lower() for k in chosen if k < i for n in nouns)
    return False


def names_someone(sentence: str) -> bool:
    """Whether a sentence names a person or a place (a skipped sentence naming either leaves "She" or "It" after
    it uncertain): a capitalised word that is not an opener, or a first word that reads as a name, followed by a
    comma, a possessive or another capitalised word ("Johnson, the leader...", "Anna Berg said"), unlike
    "Firefighters arrived" or "During the night"."""
    words = [w.strip("\"'“”‘’(),.;:!?") for w in sentence.split()]
    if any(_NAME.fullmatch(w) and w not in _NOT_NAMES for w in words[1:]):
        return True
    first = sentence.split()[:2]
    return (bool(words) and bool(_NAME.fullmatch(words[0])) and words[0] not in _NOT_NAMES and len(first) == 2
            and (first[0].endswith((",", "'s", "’s")) or first[1][:1].isupper()))


def name_intros(sentences: list[str]) -> dict[str, int]:
    """Surname -> index of the sentence that introduced it with a full name ("Leon Yeaman" gives Yeaman)."""
    intros: dict[str, int] = {}
    for i, sentence in enumerate(sentences):
        for match in _NAME.finditer(sentence):
            word = _POSSESSIVE.sub("", match.group())
            if word in intros or word in _NOT_NAMES:
                continue
            before = sentence[:match.start()].rstrip()
            previous = before.rsplit(" ", 1)[-1] if before else ""
            if _first_name(previous):
                intros[word] = i  # preceded by a first name or a title: a full name, introduced here
            else:
                intros.setdefault(word, -1)  # first seen bare: a place, a club, a brand - never dangling
    return intros


def dangling_names(i: int, sentences: list[str], intros: dict[str, int], chosen: list[int]) -> bool:
    """Whether sentence i uses a bare surname whose full name is only in a sentence not chosen before it."""
    for word in _bare_names(sentences[i]):
        k = intros.get(word, -1)
        if 0 <= k < i and k not in chosen and not any(j < i and word in sentences[j] for j in chosen):
            return True
    return False


def _bare_names(sentence: str) -> list[str]:
    """Capitalised words not preceded by a first name or a title ("Yeaman said", not "Gov. Yeaman"); after an
    honorific they are a surname all the same ("Mr. Yeaman")."""
    out = []
    for match in _NAME.finditer(sentence):
        before = sentence[:match.start()].rstrip()
        previous = before.rsplit(" ", 1)[-1] if before else ""
        if not _first_name(previous) or previous.rstrip(".") in _HONORIFICS:  # "Ms. Price" leans on "Lisa Price"
            out.append(_POSSESSIVE.sub("", match.group()))  # "Nielsen's comment" uses Nielsen
    return out


_HONORIFICS = frozenset("Mr Mrs Ms Miss Mx Dr".split())


def _first_name(word: str) -> bool:
    """Whether the word before a name makes it a full name: a first name or a title, not "Avenue, Harris"."""
    return word[:1].isupper() and not word.endswith(",") and word.rstrip(".") not in _NOT_NAMES - _TITLE_WORDS


def english(sentences: list[str]) -> bool:
    """Whether a text is English enough for `fragment` to judge: its commonest words make a share of its words."""
    words = " ".join(sentences[:20]).lower().split()
    return bool(words) and sum(w in _ENGLISH for w in words) >= ENGLISH_SHARE * len(words)


def stem(word: str) -> str:
    """Just enough folding of a lower-case word that "klopp's" meets "klopp" and "guards" meets "guard"."""
    word = word.removesuffix("'s").removesuffix("’s")
    return word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word
