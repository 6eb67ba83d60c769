"""The page speaking to its reader: asks, promos and pointers at itself that read like prose.

Matched against the lower-cased sentence by furniture.is_furniture, like its FURNITURE pattern; kept apart because
each of these came from a blind read of outside pages (issue 29, seventh round, bench/README.md) and they are the
first place to look when a reader finds another one. Each is a pattern of the ask itself, written for no one site;
the commonest in German, French and Spanish too (feeds in those languages go through the same summarizer).
"""

from __future__ import annotations

import re

__all__ = ["ASKS", "CREDIT"]

ASKS = re.compile(
    # the page asking its reader: "Let us know what you think!", "Why not also take a look...", "Check out these
    # stunners", "Your support helps us...", "Do you know someone who might want to receive...", "Already have an
    # older version...?", "please follow this link", "pls link back", "Post time to comments.", "Win tickets...",
    # "Also, please let us know if..."
    r"\blet us know what you think\b|^(?:also,? |so,? |and )?(?:please )?let (?:us|me) know\b|"
    r"\bwhy not (?:also )?(?:take a look|have a look|check out|head over|pop over|visit)\b|"
    r"\bjust tuning in\b|\bcheck (?:it|this|these|them|those) out\b|"
    r"\bcheck out (?:this|these|those)\b(?! (?:week|weekend|month|year)\b)|"
    r"\byour (?:support|donations?|gifts?|contributions?) (?:helps?|allows?|makes?|keeps?|enables?)\b|"
    r"\b(?:know|have) (?:someone|anyone|a friend) who (?:might|would|may) (?:want|like) to (?:receive|read|get|see)\b|"
    r"^already (?:have|own|using|a (?:member|subscriber|customer))\b|\bfollow (?:this|the) link\b|\blink back\b|"
    r"\bpost [\w ]{1,30} to (?:the )?comments\b|^comments (?:may|must|should|will|are)\b|^win (?:tickets|prizes|a|an)\b|"
    r"\bget (?:the|all the|more) (?:details|story|scoop|facts|info|information|lowdown) here\b|"
    # promos and notes: a ticket sale, "Don't miss", an editor's note, "Previously on...", the sidebar, "I also
    # publish..."
    r"\btickets (?:are )?(?:on sale|available) now\b|^don['’]t miss\b|^(?:editor['’]?s? )?note\s*:|^previously,? on\b|"
    r"\bin the (?:left |right )?sidebar\b|^i also (?:publish|write|run|blog)\b|"
    # the page's own furniture in prose: "« Older post | Main", "So here we go...", a sentence pointing at the page's
    # own pictures or video ("When this video was shot...", "in this picture")
    r"«[^.!?»]{0,120}\| ?main\b|^(?:so,? |and |ok,? |okay,? |well,? )?here we go\b[.!…]*$|"
    r"^(?:so,? |and |ok,? |okay,? |well,? )?here (?:it|they) (?:is|are)\b|\bafter the jump\b|"
    r"\b(?:get|read|see|find out|check out|head|click|more|details)\b[^.!?]{0,60}\b(?:after|past|below) the break\b|"
    r"\b(?:in|see|watch|check out) (?:this|these) (?:video|clip|photo|picture|image|graphic|infographic|slideshow|gallery|"
    r"screenshot)s?\b|\bwhen this (?:video|clip|photo|picture) was (?:shot|taken|filmed|recorded)\b|"
    r"^(?:below|above) (?:you|we)(?:['’]ll)? (?:can |will )?(?:find|read|see|watch|check)\b|"  # "Below you can read..."
    r"^this (?:article|post|story|piece|report) is (?:part|one) of (?:a|an|our|the) [\w -]{0,30}series\b|"
    # a comments box's rules, a live-coverage plug, "More on that here.", "the following slide" (eighth round's reads)
    r"\bpost (?:your |a )?comments? in\b|^please note\b|\b(?:this|the|our|my|new) feed (?:url|address)\b|^(?:this space|comments?) (?:is|are) moderated\b|^join (?:us|[\w.]+) for "
    r"(?:live|our|full) (?:coverage|updates|blog)\b|^more (?:on|about) (?:that|this|it) here\b|\bthe following (?:slide|"
    r"image|video|photo|picture|chart|graph|clip|screenshot|infographic|diagram)s?\b|"
    # the same in the languages feeds most often come in (German, French, Spanish): "..., lest ihr hier.", "Hier
    # findest Du...", "Sie verwenden einen Browser, der...", "Dann nutze einfach unser Lexikon.", "Lire aussi",
    # "Article mis à jour le...", "Haz clic aquí", "Ingresa tu rut..."
    r"\b(?:lest|lesen sie|liest du|siehst du|seht ihr|findest du|findet ihr|finden sie)\b[^.!?]{0,80}\bhier\b|"
    r"\bhier (?:findest|findet|finden|lest|lesen|siehst|seht|sehen) (?:du|ihr|sie)\b|\bsie verwenden einen "
    r"(?:veralteten |alten )?browser\b|\b(?:dann )?(?:nutze|nutzen sie) (?:doch )?einfach unser|^im bereits erschienenen "
    r"artikel\b|^(?:lesen sie auch|lies auch|mehr zum thema|auch interessant)\b|^(?:à )?lire (?:aussi|également|la suite)\b|"
    r"^article mis à jour le\b|\bcliquez (?:ici|sur)\b|^voir aussi\b|\babonnez-vous\b|^(?:lee|leer|lea) (?:también|más)\b|"
    r"\bha(?:z|ga) clic\b|^ver también\b|\bsuscríbete\b|^ingres[ae] (?:tu|su)\b|"
    r"^(?:lesen sie weiter|weiterlesen)\b|\bhier (?:zu )?(?:bestellen|kaufen|abonnieren)\b|^siehe (?:kapitel|abschnitt|"
    r"unten|oben)\b|^nachfolgend\b|"
    # ninth round's reads: a pointer at the page's list or pictures ("Here's a (mostly) complete list of schools...",
    # "Several of the papers below illustrate...", "(shown at bottom)", "am Ende der Meldung", "in der folgenden
    # Preview"), the site welcoming its reader, cookie and ad-blocker notices, "Fragen Sie bei uns nach", an
    # interviewer's credit ("Das Gespräch führte Nicole Collignon.")
    r"^(?:so,? |and |ok,? )?here(?:['’]s| is| are) (?:a|an|the|our|my|some)\b[^.!?]{0,60}\b(?:list|roundup|round-up|"
    r"rundown|selection|collection|gallery|slideshow|map|chart|timeline|breakdown)\b|"
    r"\b(?:the|these|those) (?:[\w-]+ )?[a-z-]{3,}s (?:below|above)(?= [a-z]+\b|[,.;:!?])(?! (?:the|a|an|zero|freezing|"
    r"average|par|normal|expectations?|forecasts?|estimates?)\b)|"
    r"\b(?:shown|pictured|seen|listed|linked) at (?:the )?bottom\b|"
    r"\bam ende (?:der|des|dieser|dieses) (?:meldung|artikels|beitrags|seite|textes)\b|\b(?:in|im) (?:der |den |dem )?"
    r"(?:folgenden|nachfolgenden|unten stehenden|untenstehenden) (?:preview|vorschau|video|artikel|beitrag|test|"
    r"bericht|galerie|bildergalerie|bilder|übersicht|liste|tabelle|grafik|interview|text|review|zeilen|abschnitt|"
    r"links?|fotos?)\b|\b(?:einen|einem|einer) der (?:folgenden|nachfolgenden) links\b|"
    r"^(?:schön|toll|super|prima),? dass (?:du|sie|ihr)\b[^.!?]{0,60}\b(?:seite|blog|website|homepage|hier)\b|"
    r"^(?:herzlich )?willkommen (?:auf|bei|im|in)\b|^welcome (?:back )?to (?:my|our|the)\b[^.!?]{0,40}\b(?:blog|site|"
    r"website|page|homepage|shop|store|channel)\b|^thanks? (?:you )?for (?:visiting|stopping by|dropping by)\b|"
    r"\b(?:wir (?:nutzen|verwenden|setzen)|(?:nutzen|verwenden|setzen) wir|we use|(?:this|our) (?:site|website) uses)\b"
    r"[^.!?]{0,120}\bcookies\b|"
    r"\b(?:unserer|unsere|our) (?:datenschutzerklärung|datenschutzhinweise|privacy policy)\b|^die einwilligung ist "
    r"freiwillig\b|\b(?:eure?n?|deinen|ihren|your) (?:werbeblocker|adblocker|ad[- ]blocker)\b|"
    r"^(?:fragen|kontaktieren|rufen|sprechen|schreiben) sie (?:uns|bei uns)\b|^(?:contact|call|e-?mail|ask) us\b|"
    r"^das (?:gespräch|interview) führten?\b|^(?:interview(?:ed)?|the interview was conducted) by\b|"
    # the tenth reads (held out first, tallied, then these): an advertising notice, "Registrieren Sie sich jetzt",
    # "Dann bist du hier genau richtig!", "... verraten wir hier.", "siehe Infos unten", "Please help spread the word."
    r"^(?:dieser|der) (?:beitrag|artikel|post) enthält (?:werbung|anzeigen|affiliate)|^this (?:post|article) (?:contains|"
    r"may contain|includes) (?:affiliate|sponsored|paid)\b|^(?:jetzt )?registrieren sie sich\b|^jetzt (?:registrieren|"
    r"anmelden)\b|\bdann bist du hier (?:genau )?richtig\b|\b(?:verraten|zeigen|erklären|informieren) (?:wir|sie) (?:euch |"
    r"dir |ihnen |sie )?(?:hier|unten)\b|^hier (?:informieren|zeigen|erklären|verraten|stellen) wir\b|\bsiehe (?:infos? )?"
    r"(?:unten|oben)\b|\bhelp (?:us )?spread the word\b|\baffiliate[- ]links?\b|\bhier (?:nach)?(?:lesen|nachlesen)\b")
# A video's or a story's credit alone, in its own capitals: "NBCNews.com's Dara Brown reports." (not "Reuters could
# not confirm the reports.")
CREDIT = re.compile(r"[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){0,4} reports[.:]")
