"""Gather stage: takes source settings and the network, gives FeedEntry and FetchResult values
(feeds and html listings parsed, article text extracted) through the one HTTP client in fetch.py.
"""

from digest.gather.extract import extract_text

__all__ = ["extract_text"]
