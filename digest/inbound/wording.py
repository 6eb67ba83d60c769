"""How real mail servers word each reason a message failed: the phrase families a classifier matches.

The phrases live in wording.txt beside this module, one [family] a section.
The families and most phrases are the facts collected by the Sisimai project
(its reason list and documented rules, restated there as data, not code);
they were written down before this classifier was scored. Each phrase is
matched on the lower-cased text with runs of white space made one space;
" … " joins parts that must appear in that order with a little text between
("mailbox … full" matches "mailbox for ann is full").

`source` says where a phrase was learnt: "sisimai" (its documented families),
or "dev:FAMILY[,FAMILY...]" for the few added after reading dev bounces of
those mail server families. bench/bounces.py drops a phrase when it scores
any family it was learnt from, so its cross-validated figures are honest
about them. The [rule] section names decision rules of classify.py the same
way: a rule learnt from dev mail is switched off for the families it came
from, as a phrase is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Phrase:
    reason: str
    text: str
    source: str = "sisimai"

    @property
    def families(self) -> tuple[str, ...]:
        """The dev mail server families this was learnt from (none for the documented facts)."""
        return tuple(f.strip() for f in self.source[4:].split(",")) if self.source.startswith("dev:") else ()


def read_phrases(text: str) -> list[Phrase]:
    phrases, family = [], ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            family = line[1:-1]
            continue
        phrase, _, source = line.partition("  @")
        phrases.append(Phrase(family, phrase.strip(), source.strip() or "sisimai"))
    return phrases


# wording_servers.txt: the per-server message tables Sisimai documents (lhost and rhost modules), restated the
# same way; kept apart from the reason lists so each file says where its phrases come from.
PHRASES: list[Phrase] = [phrase for name in ("wording.txt", "wording_servers.txt")
                         if (Path(__file__).parent / name).exists()
                         for phrase in read_phrases((Path(__file__).parent / name).read_text(encoding="utf-8"))]

# The order the families are tried in (first hit wins), the specific before the general; the weak
# ones only when no other family and no status code decided.
FIRST = ("mailboxfull", "emailtoolarge", "suspend", "hasmoved", "norelaying", "authfailure", "userunknown",
         "filtered", "requireptr", "notcompliantrfc", "badreputation", "contenterror", "rejected", "hostunknown",
         "spamdetected", "ratelimited", "blocked", "failedstarttls", "notaccept", "virusdetected", "policyviolation")
WEAK = ("securityerror", "systemerror", "networkerror", "systemfull", "expired", "mailererror")

VACATION = ("i am away on vacation", "i am away until", "i am out of the office", "i will be traveling for work on")
