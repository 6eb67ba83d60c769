"""Clicks coming back (issue 26): takes the requests to /r/ links, gives each a verdict (person or which
machine rule), writes them in batches off the request path, rolls old rows into daily counts, and the figures."""
