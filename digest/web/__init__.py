"""The web app (ASGI): takes HTTP requests, gives the signup, confirmation, unsubscribe and archive
pages and the operator endpoints. Acts on subscribers directly and on the flows for email.
"""
