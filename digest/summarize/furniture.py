"""What a page puts around a story, and the rules that keep it out of a summary.

The summarizer reads what an extractor took from a web page or a feed, so it meets
the page's furniture as well as the story: a navigation bar, the headline run into
the first sentence, photo captions above the dateline, advertisements and promotions,
copyright notices, embedded social posts, "read more here". A reader who gets one of
these as the first line of a summary sees a broken product, and a summary has room
for three sentences only, so every rule here is a pattern of the furniture itself
(its words, its punctuation, its place before the story's dateline), written for no
one site. Text-level rules cut furniture before splitting (what lies before a
dateline, a glued headline, a navigation prefix); sentence-level rules say which
sentences are furniture or captions, so they are never chosen.
"""

from __future__ import annotations

import re

from digest.summarize.asks import ASKS, CREDIT
from digest.summarize.headline import without_masthead, without_title
from digest.summarize.markers import (FURNITURE_SUBS, RARE_SUBS, SPEECH, STORY_START, STORY_START_CHARS,
                                      STORY_START_PARAGRAPHS)

__all__ = ["headline_case", "is_caption", "is_furniture", "not_story", "strip_furniture"]

_SEPARATOR = re.compile(r"\s\\?[|•·»›]\s")  # a pipe may come escaped ("\\|") from an extractor
NAV_ITEM_WORDS = 6  # words: a navigation or section item ("World News", "Thursday, November 1") is no longer
_HEADLINE_SMALL = frozenset("a an the of in on at to for and or but with by from vs".split())
_QUOTES_AND_BRACKETS = "\"'“‘([«„”’»)]」』）,.;:!?-–—"
RUBRICS = 3  # paragraphs: a roundup's rubrics ("Fiscal Cliff: ...") open this many or more, each its own
# A speaker's label opening a paragraph of an interview's transcript: "The Economist: You say that...", "Q: Why?"
_SPEAKER = re.compile(r"^[ \t]*([A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){0,2}): (?=[A-Z“\"‘'])", re.MULTILINE)

# Sentences that are page furniture even when they read like prose; never chosen. These four patterns are
# matched against the lower-cased sentence: Python's IGNORECASE matching took four times as long, and with it
# the summarizer half its speed.
FURNITURE = re.compile(
    r"\b(?:subscrib(?:e|ed|ing|er|ers)\b|sign(?:ed|ing)? up\b|newsletters?\b|click here|all rights reserved|"
    r"enable javascript|cookie policy|accept cookies|originally (?:published|appeared)|confirmation e-?mail|"
    r"(?:read|see) (?:more|also)\s*:|follow (?:us|him|her|them) on|follow us (?:to|for|at)\b|share this (?:article|story)|"
    r"image (?:copyright|caption)|getty images|(?:photo|picture|image)s? ?(?:credit)?:|"
    r"has contributed to this report|contributed reporting|printer-friendly|submitted by /?u/|"
    r"continue reading|read (?:the )?full (?:article|story)|leia mais|readcomments|^(?:the following|this|what follows) is a guest post\b|^welcome (?:back )?to\b|scroll (?:down|up)\b|\b(?:tell|let) us (?:know )?in the comments\b|(?:leave|leaves|leaving) a comment\b|"
    r"\b(?:share|post|leave) (?:it|them|yours|your [\w ]{1,30}) in the comments\b|\bcomment (?:with a link|below)\b|^(?:much )?more over at\b|^(?:photo|picture|video|image)s? of the (?:day|week)\b|back to (?:the )?(?:main page|home ?page)\b|"
    r"(?:previous|older|newer) (?:posts?|entry|entries)\b|next (?:post|entry)\s*(?::|»|$)|"
    # A blog engine's footer: "RSS feed for comments on this post.", "TrackBack URI", "Comments are closed."
    r"rss feed for (?:comments|this)|trackback ur[il]\b|comments (?:are|were) closed\b|both comments and pings\b|"
    r"responses to this (?:entry|post)\b|\bleave a (?:response|reply)\b|\btrackback from your\b|"
    r"\bthe (?:other|previous|above|earlier) (?:\w+ )?(?:answers|replies)\b|"  # a forum's answer on the others
    # a link party's rules ("one link per comment", "comments with links go to the spam filter"); not news about spam
    r"\b(?:one|a single) link per comment\b|\b(?:in|into|to|check) (?:the|your|my|our) spam (?:filter|folder|queue)\b)|"
    r"\[(?:link|\d+ comments?)\]")
# Furniture that needs a word (see is_furniture): a writer's bio line, "click through", a sign-off of thanks.
_BIO = re.compile(r"(?!(?:the|a|an|this|that|it|he|she|there|our|my)\b)[a-z.'’-]+(?: [a-z.'’-]+){1,2} is (?:a |an |the )?"
                  r"[\w'’ .-]{0,50}\b(?:correspondent|columnist|contributor|contributing editor|editor-at-large|staff writer|blogger|"
                  r"freelance writer|professor|(?:senior |research )?fellow|(?:co-?)?author of)\b(?! (?:who|whose|for the)\b)")
_CLICK = re.compile(r"\bclick(?:ing)? (?:on )?(?:it|them|each|any|the (?:[\w-]+ ){0,2}(?:thumbnail|image|picture|photo|icon)s?)\b|"
                    r"\bby clicking\b|\bclick(?:ing)? (?:over|through) (?:to|for)\b|\bclick(?:ing)? (?:on |through )(?:the |this |that )?"
                    r"[\w“”\"' -]{0,30}(?:link|button|tab)s?\b")
_DOWNLOAD = re.compile(r"download [\w' -]{1,40} (?:at|from|on) (?:the )?(?:[\w-]+\.(?:com|net|org|io|co)\b|app store|"
                       r"google play|itunes)")  # "Download Carrow Tides at carrowtides.com."
# Pointers at a figure or at what follows ("Figure 1 illustrates...", "I'll use the following plot"), a podcast's call.
_FIGURE = re.compile(r"^(?:figure|fig\.|table|chart|graph) \d+[a-z]? (?:shows|illustrates|displays|depicts|presents|gives)\b|"
                     r"\bthe following (?:[\w-]+ ){0,2}(?:plot|figure|graph|chart|table|image|photo|picture|video|code|"
                     r"screenshot|diagram|example|syntax|command|script|snippet)s?\b|^listen (?:in|now)\b|\bthe following (?:[\w-]+ ){0,2}"
                     r"(?:article|post|story|letter|statement|note|message|e-?mail|poem|list|tips|questions|quote|excerpt|"
                     r"passage|links?|items?)s?\b(?![^“\"]*[“\"])|"  # not when the sentence quotes it
                     r"\b(?:like|as in|such as) the following\b|\bthe following\W*$|^the following (?:is|are|was|were)\b|\bthe following [^.!?]{0,40}:\W*$|\b(?:read|keep reading) on(?:[.!]*$| \()")
# The site's or the company's word about itself: "At Carrow Data, we provide...", "Enjoy your visit!", "please consult
# our handbook", and a credit line alone ("Created by UK-based designer Ann Reid!").
_SELF = re.compile(r"^at [\w&.'’-]+(?: [\w&.'’-]+){0,3}, (?:we|our)\b|\benjoy your (?:visit|stay)\b|\bhave a nice stay\b|"
                   r"\bsubmit your (?:[\w-]+ ){0,2}(?:letters?|stor(?:y|ies)|photos?|tips?|questions?|comments?|events?)\b|"
                   r"\b(?:via|using|through) (?:this|our) (?:online |contact |web )?form\b|"  # "Submit your letter via this form."
                   r"^(?:read|see|view|browse) (?:more|all|other)\b|"  # "Read more Letters to the Editor."
                   r"\b(?:content|information|material) in this (?:article|page|section) (?:is|was|has been) (?:derived|taken|"
                   r"adapted|drawn)\b|\bthis article (?:is a stub|needs additional|may contain)\b|"  # a wiki's notices
                   r"\bthanks? (?:you )?for visiting\b|\bwelcome to our (?:site|website|web site|blog|shop|store|page)\b|"
                   r"\bplease (?:consult|see|refer to|check|visit|read) (?:our|the) (?:[\w-]+ )?(?:handbook|documentation|docs|"
                   r"guide|faq|wiki|manual|tutorial|website)\b")
_CREDIT_LINE = re.compile(r"^(?:created|designed|photographed|illustrated|drawn|painted|made|produced|directed|compiled) by "
                          r"[^.!?,;:]{1,60}[.!]*$")
# A sentence that leans on the page's video or pictures: "As I mention in the video, I've removed an egg white."
_IN_MEDIA = re.compile(r"\b(?:as|like) (?:i|we|you['’]ll|you can) (?:\w+ )?(?:mention|mentioned|say|said|show|showed|shown|"
                       r"explain|explained|demonstrate|demonstrated|see|saw|hear) in the (?:video|clip|podcast|photos?|"
                       r"pictures?|slideshow|gallery)\b")
# The page speaking to its reader about itself: a form to fill in ("Use the description field to tell us where you
# took the picture."), what sits at its end ("at the end there's a video of me"), what it showed or listed ("the
# emotions I listed above", "The portraits above are...", "These are just a few of the apps I've used"), its earlier
# posts ("We have also earlier seen..."), a repost's source, thanks for a contribution, a note on advertisers, a
# product's banner ("... is now available for you to test"), "check it out below", "you'll find some ideas here",
# "Find your system below.", "the instructions below", a credit for the page's pictures, a sign-off ("Have a great
# weekend, everyone!"), a series' note ("We continue our X series", "This is the third in a three part series"),
# "Mentioned earlier in the week, ...", "read the first installment ...", "We'll be adding more images as...", a
# content warning ("Warning: This contains some gory stuff!"), "Follow hashtag #x on Twitter for...".
_TO_READER_START = re.compile(  # matched at the sentence's start
    r"(?:please )?(?:use|fill (?:in|out)|complete) the (?:[\w-]+ ){0,3}(?:field|form|box)\b|(?:please )?(?:tell|send|e-?mail) us\b|"
    r"the (?:[\w-]+ ){0,2}[\w-]+s (?:above|below) (?:are|were|show)\b|the (?:images|photos|pictures|photographs) (?:are|were) "
    r"(?:from|by|courtesy)\b|(?:these|those) (?:are|were) (?:just |only |but )?(?:a few|some|a handful|a selection|a sample|"
    r"a couple)\b|this (?:post|article|piece|story|entry) (?:is|was) (?:from|by|republished|reprinted|cross-?posted)\b|"
    r"(?:a )?(?:big |special |many )?thanks? (?:you )?to [^.!?]{1,60} for (?:(?:his|her|their|this|the) )?(?:contribution|"
    r"guest post)|(?:find|choose|select|pick) [^.!?]{0,60}\b(?:below|above)\b|have a (?:great|good|nice|wonderful|lovely|"
    r"happy) (?:weekend|week|day|holiday)\b|(?:we|i) (?:continue|conclude|begin|start|kick off|wrap up) (?:our|my|this) "
    r"(?:[\w'’-]+ ){0,4}series\b|this is the (?:first|second|third|fourth|fifth|sixth|final|last|next|latest) (?:post |part |"
    r"installment |entry |article )?(?:in|of) (?:a|an|our|my|the|this) [\w -]{0,30}series\b|(?:as )?(?:mentioned|noted|posted) "
    r"earlier (?:this|in the|last) (?:week|month)\b|(?:we|i)(?:['’]ll| will) (?:be )?(?:adding|add|posting|post|updating|update) "
    r"(?:more )?(?:images|photos|pictures|videos|updates|details)\b")
_TO_READER = re.compile(  # searched, where a word it needs is (_TO_READER_WORDS)
    r"\bat the (?:end|bottom|top)(?: of (?:this|the|my) (?:post|article|page))?,? (?:there(?:['’]s| is| are| will be)|"
    r"you(?:['’]ll| will| can) (?:find|see|watch))\b|\b(?:i|we)(?:['’]ve| have)? (?:listed|mentioned|described|shown|linked|"
    r"posted|embedded) (?:above|below)\b|\b(?:we|i)(?:['’]ve| have) (?:also )?(?:earlier|previously) (?:seen|featured|covered|"
    r"shown|showcased|written about|posted|told you about)\b|\badvertisers? (?:do(?:es)? not|don['’]t|never|cannot|can['’]t) "
    r"(?:influence|affect)\b|\b(?:is|are) now available for you to (?:test|try|download|preview)\b|"
    r"\b(?:follow|use|search|search for) (?:the )?hashtag\b|\b(?:check|try) (?:it|them) out (?:below|above)\b|"
    r"\bthe (?:instructions|steps|links?|examples|options|list|table|form) (?:below|above)\b|"
    r"\b(?:warning|caution|content warning|trigger warning|spoiler alert) ?: ?this (?:post |article |video |page |story )?"
    r"(?:contains|includes|has)\b|\bread (?:the|my|our) (?:first|second|previous|earlier|last|other) (?:installments?|parts?|"
    r"posts?|articles?|entr(?:y|ies))\b|\byou(?:['’]ll| will| can)? (?:get|find) (?:some|a few|more|lots of|plenty of) "
    r"[\w'’ -]{0,30}here[.!]*$")
_TO_READER_WORDS = ("at the ", "above", "below", "earlier", "previously", "advertis", "available for", "hashtag", ": this", ":this",
                    "read ", "here")
_THANKS = re.compile(r"(?:thank you|thanks)(?: (?:all|again|everyone|so much|very much|for (?:reading|watching|listening)))?"
                     r"[.!]*$")
# Advertisements and promotions: a price per unit after "only", a white paper or webinar, a call to buy or download.
PROMO = re.compile(
    r"\b(?:only|just|from|starting at|as low as|as little as)\s+(?:[£$€]\s?\d[\d,.]*|\d[\d,.]*\s?(?:p|pence|cents?))"
    r"\s*(?:per|a|an|/)\s*(?:trade|month|mo|year|yr|week|issue|user|seat|day)\b|"
    r"\b(?:in|from|with) (?:this|our) (?:free )?(?:white ?paper|webinar|e-?book|infographic|free guide)\b|"
    r"\b(?:download|get|request|claim|grab) (?:your|our|the|a|this) (?:free |complimentary )?"
    r"(?:copy|white ?paper|e-?book|guide|trial|demo|(?:\w+ ){0,2}app)\b|"
    r"\b(?:download|get|order|buy|grab) our (?:[\w-]+ ){0,2}(?:cookbook|book|magazine|e-?book|guide|app)\b|"
    r"\bfree (?:trial|demo|quote|consultation)\b|\b(?:order|buy|shop|book|call|apply|register|donate) (?:now|today)\b|"
    r"\b(?:promo|discount|coupon|voucher) code\b|\buse code [a-z0-9]|\bt&cs? apply\b|\bterms and conditions apply\b|"
    r"\b(?:sponsored (?:content|post|by)|advertorial|paid (?:post|content)|partner content|affiliate links?)\b|"
    # Disclosures: "This post contains references to products from one or more of our advertisers."
    r"\bour advertisers\b|\bterms apply\b|\bunlimited (?:digital )?access\b|\bbecome a (?:member|patron|supporter)\b|"
    r"\bsupport (?:our|independent|local) journalism\b|\badvertis(?:ing|er) (?:policy|disclosure)\b|"
    r"\bsupport (?:the|our|this|my) (?:podcast|blog|newsletter)(?: (?:by|with|on|through|at|via|here)\b|[.!]|$)|\bavailable (?:for|as a) (?:free )?download\b|"
    r"\bmay (?:receive|earn) (?:a )?(?:compensation|commission)\b")
# The site's own notices: copyright, reuse terms, "this site", browser advice.
BOILERPLATE = re.compile(
    r"©|\bcopyright\s*(?:©|\(c\)|\d{4})|\b(?:may|must|shall|should) not be (?:re)?(?:published|broadcast|reproduced|"
    r"copied|rewritten|redistributed)|\bredistributed\b|\bterms of (?:use|service)\b|\bprivacy (?:policy|notice)\b|"
    r"\b(?:this|our) (?:site|website|web site)\b|\bbrowsers? (?:with|that|is)\b|\bjavascript\b|"
    r"\b(?:opinions|views) expressed\b|\bis a personal (?:web ?site|blog|page)\b")
# An embedded social post, and a sentence that only points at a link or at something on the page.
SOCIAL = re.compile(r"(?<![\w.])@[A-Za-z0-9_]{2,15}\b|pic\.twitter\.com|\bRT @|https?://t\.co/")
POINTER = re.compile(  # every pattern here needs "here", "below", "above" or "underneath" (see _points)
    r"\b(?:read|see|watch|find out|learn|click|tap|check|listen|view|download|register)\b(?: [\w'’.]+| [–—:-]){0,12} "
    r"here(?:[.!)]*$|,? (?:to|for) )|"  # "Watch it on Vimeo – here.", "read the original post here, to find out why"
    r"\b(?:moved|posted|put|uploaded) (?:the|this|it|my) (?:[\w'’]+ ){0,6}here[.!)]*$|\b(?:please )?find (?:below|above)\b|"
    r"\b(?:below|above) you'?ll\b|^(?:below|above)(?: and (?:below|above))? (?:are|is)\b|^(?:below|above|here),\s|"
    r"\bthe (?:above|below) (?!average|normal|zero|freezing|par\b)[a-z]|^here,? (?:we|you) (?:have|can see|see|get)\b|"
    r"\bhere(?:['’]s| is| are) (?:what|how|a few|some|(?:a |the )?(?:[\w-]+ ){0,3}(?:tips|ways|steps|things|reasons|ideas|examples|"
    r"options|rules|lessons|facts))\b[^.!?]{0,60}[.:!]?$|\bthere['’]s (?:a lot|lots|plenty|much|more) (?:here|below|above)\b|"  # "here are a few tips"
    r"\bthe (?:below|above) (?:\w+ )?(?:letter|list|video|chart|graphic|image|"
    r"photo|picture|table|map|post|article|statement)\b|\b(?:underneath|below|above) (?:each|every) (?:one|video|photo|image|picture)\b|"
    r"^here,? (?:is |are )?(?:the |a )?(?:trailer|video|clip|photos?|pictures?|gallery)\b|^(?:more|full|further) "
    r"(?:details|info|information)(?: (?:is|are))? here[.!]*$|^here (?:is|are) (?:[\w'’-]+ ){0,4}(?:videos?|clips?)\b|"
    r"^here(?:['’]s| is| are) (?:[\w'’-]+,? ){0,19}[\w'’-]+[.:!]?$|"  # "Here are a few of our favourites." (what follows)
    r"\b(?:comment|reply|contact|feedback) (?:box|form|section|field)s? (?:below|above)\b|"  # "using the comment box below"
    r"\bas (?:outlined|mentioned|noted|described|discussed|explained|listed|shown) (?:above|below)\b|"  # "as outlined above"
    r"^listed (?:below|above) (?:are|is)\b|\bas (?:shown|seen|pictured|illustrated) here\b|\b(?:included|embedded|featured) (?:here|below|above)\b|"  # "as shown here"
    r"\b(?:in|on) the (?:post|article|video|photo|picture|image|section|map|chart|list|table)s? (?:below|above)\b|"
    r"\b(?:see|watch|listen to|shown|pictured|seen|embedded|illustrated|click on|check out)\b[^.!?]{0,60}"
    r"\b(?:below|above)\b|\b(?:video|images?|photos?|pictures?|gallery|slideshow|chart|graphic|map|clip|player)s?"
    r" (?:below|above)\b|\b(?:portraits?|illustrations?|drawings?|screenshots?|infographics?|diagrams?|tweets?) above\b")
MORE_POINTER = re.compile(  # every pattern here needs "for ", "more" or "in this"
    r"^in this (?:video|clip)\b|"
    r"\b(?:visit|see|go to|head (?:over )?to|check out)\b[^.!?]{0,80}\bfor (?:more|further|full) (?:information|details|info)\b|"
    r"^for (?:more|further) (?:information|details|info)\b|^more (?:information|details|info) (?:is|are) available\b|\blearn more (?:at|on) (?:https?://|www\.|[\w-]+\.(?:com|org|net))|^for a (?:full )?list of\b[^.!?]{0,60}\b(?:see|visit|go to)\b|"
    r"\b(?:read|see|find) more\b[^.!?]{0,60}\b(?:in|on) (?:this|that|my|our) (?:post|article|piece|page)\b|"
    r"\bmore information\b[^.!?]{0,40}\b(?:check|see|visit|read)\b|\bcheck (?:out )?the original (?:post|article|story)\b")
# Words without one of which BOILERPLATE cannot match: a substring test first spares most sentences its scan.
_BOILERPLATE_WORDS = ("©", "copyright", "not be ", "redistributed", "terms of ", "privacy ", "site", "browser",
                      "javascript", "expressed", "personal")
# A byline on its own: "Por Matt Spetalnick e Jason Szep", "Updated by Mike Shulman on Nov 3".
BYLINE = re.compile(r"^(?i:by|por|von|par|di|door|av|updated by|posted by|written by|reporting by)\s+[A-Z]")
BYLINE_WORDS = 12
# A photo caption ends with its credit: "... on Jan. 30, 2023. (Danilo Pavlov)" or "(Photo: AFP)".
CAPTION = re.compile(r"[.!?]?\s*\((?:photo|image|credit|getty|[a-z][\w'’.-]*)(?:[:/ ]+[\w'’.-]+){0,4}\)\s*$")
# Captions by their words: "In this May 18, 2017 file photo, ...", "This photo released by ...", "(AP Photo/...)",
# "poses for photographers", "Hide Caption 1 of 30".
CAPTION_WORDS = re.compile(
    r"^(?:in )?(?:this|these|an?) (?:[\w,.’'-]+ ){0,8}?(?:photos?|images?|pictures?|photographs?|screenshots?|"
    r"screen ?grabs?|video stills?|frame grabs?)\b(?: (?:made|released|provided|taken|obtained|posted|shared|"
    r"distributed|supplied|courtesy|from|shows?)\b|,)|"
    r"\((?:ap|afp|epa|reuters|getty|pa)?[^()]{0,40}\b(?:photo|images?)/[^()]{1,40}\)|\bvia ap\)|\(\s*/\s*[a-z][^()]{0,30}\)|"
    r"\bposes? (?:for|with) (?:a |the )?(?:photo|picture|portrait|camera|photographers|selfie)|\bhide caption\b|"
    r"^photos?: |^(?:photo|image|picture|illustration)s? (?:at (?:the )?top |above |below )?(?:by|courtesy of|credit)\b|"
    r"^(?:screenshots?|screen ?grabs?|video stills?|frame grabs?) (?:from|of)\b|^(?:photo |image |picture )?credits? ?: |"
    r"^(?:figure|fig\.|table|chart|graph|image|photo|exhibit) \d+[a-z]?\s*[:.|–—-]")
# Code and markup: braces, tags, statements, comments, prompts.
CODE = re.compile(r"[{}<>]|==|=>|->|&&|\|\||\w\([^)]*\)\s*[;{]|;\s*$|^\s*(?://|#|\$ |>>>)|\b(?:def|var|const|"
                  r"function|return|import|#include)\s+[\w.$\[\]]*\s*[=(;]|^[a-z_][\w.]*(?:\[[^\]]*\])?\s*[-+*/]?=\s*[^\s=]")
# Not a sentence of the story: cut off by the feed ("Modern kitche [...]"), or a show-notes time code ("(0:27) Source").
_CUT_OFF = re.compile(r"\[(?:\.\.\.|…)\]$")
_TIME_CODE = re.compile(r"^\(\d{1,2}:\d{2}(?::\d{2})?\)")


def strip_furniture(text: str, title: str | None = None) -> str:
    """The text from where the story starts, without its furniture: what comes before a dateline near the top
    (captions, the headline, "Story highlights", a byline), the headline run into the first paragraph, navigation
    items before a paragraph, datelines, bylines and markers."""
    start = STORY_START.search(text, 0, STORY_START_CHARS)
    if start and 0 < start.start() and text.count("\n", 0, start.start()) < STORY_START_PARAGRAPHS * 2:
        text = text[start.start():]  # the story starts at its dateline; above it only the page's furniture
    if title:
        text = without_title(text, title)
    text = "\n".join(_without_navigation(line) for line in text.split("\n"))
    if ": " in text:
        text = _without_rubrics(_without_speakers(text))
    for pattern, repl in FURNITURE_SUBS:
        text = pattern.sub(repl, text)
    for needle, pattern, repl in RARE_SUBS:
        if needle in text:
            text = pattern.sub(repl, text)
    return without_title(without_masthead(text, title), title) if title else text  # again: a headline under a
    # masthead ("Schneier on Security A blog covering... November 13, 2012 Free Online Cryptography Course Dan...")


def _without_speakers(text: str) -> str:
    """An interview's transcript without its speakers' labels: the interviewer is a label that opens two paragraphs
    or more, most of them questions, and its paragraphs go whole ("The Economist: You say that groups decide better.
    Why is that?" is a question, not a fact); a label that opens the paragraph after the interviewer's twice or more
    is a speaker answering, and loses the label (so does any label after the interviewer's once). Labels that answer no questions ("Photos: ...") are left alone."""
    lines = text.split("\n")
    turns: list[tuple[int, str, bool]] = []  # (line, label, asks)
    for n, line in enumerate(lines):
        found = _SPEAKER.match(line) if ": " in line else None
        if found:
            turns.append((n, found.group(1), "?" in line[found.end():]))
    asked: dict[str, list[bool]] = {}
    for _, label, asks in turns:
        asked.setdefault(label, []).append(asks)
    askers = {label for label, asks in asked.items() if len(asks) >= 2 and sum(asks) * 2 >= len(asks)}
    answers: dict[str, int] = {}
    for (n, label, _), (m, after, _) in zip(turns, turns[1:]):
        if label in askers and after not in askers and not any(x.strip() for x in lines[n + 1:m]):
            answers[after] = answers.get(after, 0) + 1
    if not any(count >= 2 for count in answers.values()):
        return text
    speakers = set(answers)  # in a transcript, one answer's label may differ ("Thomas Malone:", then "Mr Malone:")
    for n, label, _ in turns:
        if label in askers:
            lines[n] = ""
        elif label in speakers:
            lines[n] = lines[n][_SPEAKER.match(lines[n]).end():]
    return "\n".join(lines)


def _without_rubrics(text: str) -> str:
    """A roundup's paragraphs without their rubrics: three or more paragraphs that open on a label of their own, each
    label once and of two words or more ("Marriage Equality: Voters in Maryland...", "Fiscal Cliff: U.S. investors...").
    A transcript's labels repeat (its speakers), and are _without_speakers' to judge; one-word labels ("Crew:",
    "Fares:") are a fact box's, not prose (split.py)."""
    labels = [(found.group(1), found.start(1), found.end()) for found in _SPEAKER.finditer(text)]
    names = [label for label, _, _ in labels]
    if (len(labels) < RUBRICS or len(set(names)) < len(names) or any(SPEECH.search(name) for name in names)
            or any(" " not in name for name in names)):
        return text
    for _, start, end in reversed(labels):
        text = text[:start] + text[end:]
    return text


def _without_navigation(line: str) -> str:
    """A paragraph without the navigation or section items before its sentence ("Home | World | The talks..."),
    and nothing at all when it is only items ("News | Sport | Weather")."""
    pieces = _SEPARATOR.split(line)
    if len(pieces) < 2 or any(len(p.split()) > NAV_ITEM_WORDS and not headline_case(p) for p in pieces[:-1]):
        return line
    last = pieces[-1].strip()
    return last if len(last.split()) > NAV_ITEM_WORDS or last.endswith((".", "!", "?")) else ""


def headline_case(text: str) -> bool:
    """Every word capitalised but the small ones, four or more: a headline, a related story's link or a sign-off
    ("Miley Cyrus Busts Out Her Wicked Bikini Sexiness!", "Welcome to Million Dollar Journey!"), not a sentence."""
    words = [w for w in (w.strip(_QUOTES_AND_BRACKETS) for w in text.split()) if w[:1].isalpha()]
    return sum(w[0].isupper() for w in words) >= 4 and all(w[0].isupper() or w.lower() in _HEADLINE_SMALL for w in words)


def is_furniture(text: str) -> bool:
    """Page furniture, whatever else the text is: sign-up, share and "read more" lines, advertisements and
    promotions, the site's notices, embedded posts, a navigation bar, or a byline alone."""
    lower = text.lower()
    return (bool(FURNITURE.search(lower) or ASKS.search(lower) or CREDIT.fullmatch(text) or PROMO.search(lower) or _boilerplate(lower) or SOCIAL.search(text)
                 or _points(lower) or ("click" in lower and _CLICK.search(lower)) or (lower.startswith("thank")
                 and _THANKS.match(lower)) or (lower.startswith("download") and _DOWNLOAD.match(lower))
                 or (("fig" in lower or "following" in lower or "listen" in lower or " on" in lower) and _FIGURE.search(lower)) or (" is " in lower and _BIO.match(lower))
                 or (" in the " in lower and _IN_MEDIA.search(lower)) or _self(lower) or _to_reader(lower)) or len(_SEPARATOR.findall(text)) >= 2
            or (len(text.split()) <= BYLINE_WORDS and bool(BYLINE.match(text))))


def _self(lower: str) -> bool:
    """The site speaking of itself or crediting its picture (see _SELF); the patterns run only where a word they need is."""
    return ((lower.startswith("at ") or "enjoy" in lower or "nice stay" in lower or "visiting" in lower or "welcome" in lower
             or "please" in lower or "submit" in lower or " form" in lower or "this article" in lower
             or lower.startswith(("read ", "see ", "view ", "browse ")))
            and bool(_SELF.search(lower))) or (" by " in lower[:14] and bool(_CREDIT_LINE.match(lower)))


def _to_reader(lower: str) -> bool:
    """The page speaking to its reader about itself (see _TO_READER)."""
    return bool(_TO_READER_START.match(lower)) or (any(w in lower for w in _TO_READER_WORDS) and bool(_TO_READER.search(lower)))


def _boilerplate(lower: str) -> bool:
    return any(word in lower for word in _BOILERPLATE_WORDS) and bool(BOILERPLATE.search(lower))


def _points(lower: str) -> bool:
    """A sentence that only points at a link or at something on the page ("Read more here.", "Watch the video
    below.", "For more information, visit..."); the patterns run only where a word they need is present."""
    return ((("here" in lower or "below" in lower or "above" in lower or "underneath" in lower)
             and bool(POINTER.search(lower)))
            or (("for " in lower or "more" in lower or "in this" in lower) and bool(MORE_POINTER.search(lower))))


def is_caption(text: str) -> bool:
    """A photo caption: it ends with a credit or says it describes a picture."""
    lower = text.lower()  # both patterns are written for lower case (see FURNITURE)
    return bool(CAPTION.search(lower) or CAPTION_WORDS.search(lower))


def not_story(sentence: str) -> bool:
    """Furniture, a caption, code, a sentence cut off by the feed or a show-notes time code."""
    return (is_furniture(sentence) or is_caption(sentence) or bool(CODE.search(sentence))
            or bool(_CUT_OFF.search(sentence)) or bool(_TIME_CODE.match(sentence)))
