"""The one HTTP client: takes a URL, a fetch policy, a deadline and byte caps; gives the decoded body or a
clear error. The gatherer uses it now; webhooks and image proxying go through it next."""
