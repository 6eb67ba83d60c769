"""Pages collapsed to a heading or a note (issue 29): the kinds read on the outside sets, rebuilt from our own markup.

Each test holds one kind: what the page looks like, what a reader wants from it, and (where a rule was added for
it) what the extractor gave before the rule.
"""

from __future__ import annotations

from digest.gather.combine import MAX_PARAGRAPHS, combine, paragraph_elements
from digest.gather.extract import extract_paragraphs

POST = ("Happy Monday! We adore this picnic board from <a href=\"http://friend.example.com\">Harbour &amp; Thyme</a> "
        "and cannot wait to plan one for a seaside couple this spring.")
POST_TEXT = ("Happy Monday! We adore this picnic board from Harbour & Thyme and cannot wait to plan one for a seaside "
             "couple this spring.")
NOTE = ("If you see a photo here that we have not credited, please tell us so that we can credit it properly. "
        "If a photo belongs to your studio and you would rather we did not show it, write to us and we will take it down.")


def three_column_blog(post: str, blogroll: int = 80) -> str:
    """A hosted blog's three-column page: a sidebar of list modules (a long blogroll, then a "small print" note in a
    list item of its own), the post (one short paragraph and a picture) with its footer, trackback lines and a
    comment feed link."""
    roll = "".join(f'<li class="module-list-item"><a href="http://blog{i}.example.com/">Friend blog {i}</a></li>'
                   for i in range(blogroll))
    categories = ", ".join(f'<a href="/c{i}/">Category {i}</a>' for i in range(7))
    return f"""<html><head><title>picnic board</title></head><body class="layout-three-column">
<div id="container"><div id="container-inner" class="pkg"><div id="pagebody"><div id="pagebody-inner" class="pkg">
<div id="alpha"><div id="alpha-inner" class="pkg">
 <div class="module-typelist module"><h2 class="module-header">blogs we read</h2>
  <div class="module-content"><ul class="module-list">{roll}</ul></div></div>
 <div class="module-typelist module"><h2 class="module-header">small print</h2>
  <div class="typelist-plain module-content"><ul class="module-list">
   <li class="module-list-item"><div class="typelist-note">{NOTE}</div></li></ul></div></div>
</div></div>
<div id="beta"><div id="beta-inner" class="pkg">
 <p class="content-nav"><a href="/older">&laquo; older post</a> | <a href="/">Main</a></p>
 <h2 class="date-header">March 4, 2013</h2>
 <div class="entry-type-post entry" id="entry-1"><h3 class="entry-header">picnic board</h3>
  <div class="entry-content"><div class="entry-body"><p style="text-align: center;">{post}</p>
   <p><a class="asset-img-link" href="/a/1-popup"><img alt="board" src="/a/1-400wi"/></a></p></div></div>
  <div class="entry-footer"><p class="entry-footer-info"><span class="post-footers">Posted at 05:00 AM in {categories}
   </span> <span class="separator">|</span> <a class="permalink" href="/p">Permalink</a></p></div></div>
 <div class="trackbacks"><h3 class="trackbacks-header">TrackBack</h3><div class="trackbacks-info">
  <p>TrackBack URL for this entry:<br/><span class="trackbacks-link">http://www.example.com/trackback/1</span></p>
  <p>Listed below are links to weblogs that reference <a href="/p">picnic board</a>:</p></div></div>
 <div class="comments" id="all-comments"><h3 class="comments-header">Comments</h3><div class="comments-info">
  <p><a href="/comments/atom.xml">You can follow this conversation by subscribing to the comment feed for this post.</a>
  </p></div></div>
</div></div></div></div></div></div></body></html>"""


def test_a_short_post_is_not_lost_to_a_sidebar_note_that_both_readings_hold():
    """The post is one paragraph of 22 words; the fast reading (trafilatura's recall retry) holds it and the
    sidebar's note, the precision reading only the note. The note, shared, vouched for the span, and the post,
    short and above it, was trimmed: the page came out as the note. A <p> above the span is kept (LEAD_WORDS)."""
    html = three_column_blog(POST)
    assert extract_paragraphs(html, lead_words=0) == [f"- {NOTE}"]  # the collapse, before the rule
    assert extract_paragraphs(html) == [POST_TEXT, f"- {NOTE}"]


def disqus_post(post: str, comments: list[str]) -> str:
    """A blog post whose comment thread (a Disqus list) is far longer than the post."""
    thread = "".join(f'<li id="dsq-comment-{i}" class="comment depth-1"><div class="dsq-comment-body">'
                     f'<div class="dsq-comment-header"><a href="http://reader{i}.example.com/">Reader {i}</a></div>'
                     f'<div class="dsq-comment-message"><p>{c}</p></div></div></li>' for i, c in enumerate(comments))
    return f"""<html><head><title>What stands between us and the ferry</title></head><body class="single">
<div id="wrapper" class="hfeed"><div id="container"><div id="content">
 <div id="post-1" class="post type-post hentry"><h2 class="entry-title"><a href="/p">What stands between us and the
  ferry</a></h2><div class="entry-meta">November 3, 2012 by the harbour desk</div>
  <div class="entry-content"><p>{post}</p></div></div>
 <div id="disqus_thread"><div id="dsq-content"><ul id="dsq-comments">{thread}</ul></div></div>
</div></div>
<div id="primary" class="sidebar"><div class="widget"><p><a href="/book">Buy the book about the harbour</a></p></div>
</div></div></body></html>"""


def test_a_short_post_above_a_long_comment_thread_is_the_article():
    """The kind of page whose marked text was mostly the readers' comments (a labelling artefact, issue 29): a
    reader wants the post, however short; the comments, however long, are not the article."""
    post = "Six days without the ferry so far. Looking at the quay, I am guessing another week or even two."
    comments = [f"Comment {i}: we had the same trouble on the island last winter, and the council took weeks to "
                f"send anyone; keep your phones charged and check on the neighbours every evening." for i in range(12)]
    kept = extract_paragraphs(disqus_post(post, comments))
    assert kept[0] == post
    assert not any(p.startswith("Comment") for p in kept)


BODY = [f"The harbour council met on Tuesday evening for the {n} time this year to weigh the ferry budget, which grew "
        f"by {n} percent while the quay works ran late and the dredging contract went to a new firm."
        for n in ["first", "second", "third", "fourth", "fifth", "sixth"]]
LEDE = "The harbour ferry will cost the town twice what was promised, and the council wants to know who is to blame."


def news_post(header: str) -> str:
    """A news blog's post: the headline and what sits under it in a <header>, then the body in its own container."""
    return f"""<html><head><title>Ferry budget doubles | Harbour Gazette</title></head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li></ul></nav>
<article class="contentBody"><div class="post"><header><h1>Ferry budget doubles</h1>{header}
<div class="byline">by Ann Lee | March 4, 2013 10:00 AM PST</div></header>
<div class="postBody txtWrap">{''.join(f'<p>{p}</p>' for p in BODY)}</div></div></article>
<footer><p>Harbour Gazette, 1 Quay Street</p></footer></body></html>"""


def test_the_lede_above_the_body_is_kept_when_it_is_a_paragraph():
    """The precision reading starts at the body; the fast one also holds the lede written in the header as a
    paragraph. The lede (21 words) was trimmed as a short line above the shared span (SHORT_WORDS = 30). A <p> of
    LEAD_WORDS or more above the span is the article's own; a dek set as a heading is not kept (it reads with
    the title), nor is a label of a few words or the byline."""
    html = news_post(f"<p>{LEDE}</p>")
    assert extract_paragraphs(html, lead_words=0) == BODY  # the lede lost, before the rule
    assert extract_paragraphs(html) == [LEDE, *BODY]
    assert extract_paragraphs(news_post(f"<h2 class='sub-head'>{LEDE}</h2>")) == BODY
    assert extract_paragraphs(news_post("<p>Harbour news: ferries</p>")) == BODY


def test_the_lede_rule_at_the_combination():
    """Above the shared span: a paragraph element of LEAD_WORDS or more stays, a label or an unknown line goes."""
    label = "Harbour news: ferries"
    is_p = {LEDE, label}.__contains__
    assert combine([label, LEDE, *BODY], BODY, paragraph_element=is_p) == [LEDE, *BODY]
    assert combine([label, LEDE, *BODY], BODY) == BODY  # no look-up: trimmed as before
    assert combine([label, LEDE, *BODY], BODY, paragraph_element=is_p, lead_words=0) == BODY
    assert combine([*BODY, LEDE], BODY, paragraph_element=is_p) == BODY  # below the span: SHORT_WORDS as before


def test_the_paragraph_look_up_reads_a_bounded_number_of_a_hostile_pages_paragraphs():
    """A page of many thousands of <p> elements: the look-up behind LEAD_WORDS reads the first MAX_PARAGRAPHS of
    them and no more, so a paragraph past that bound is never taken for one of the page's."""
    import lxml.html

    count = MAX_PARAGRAPHS + 50
    root = lxml.html.fromstring("<html><body>" + "".join(f"<p>Item number {n} of the hostile page</p>"
                                                         for n in range(count)) + "</body></html>")
    lookup = paragraph_elements(root)
    assert lookup("Item number 0 of the hostile page")
    assert lookup(f"Item number {MAX_PARAGRAPHS - 1} of the hostile page")
    assert not lookup(f"Item number {MAX_PARAGRAPHS + 10} of the hostile page")
    assert paragraph_elements(None)("Item number 0 of the hostile page") is False
