"""digest: a self-hosted newsletter digest generator and sender.

Importing this package has no side effects; entry points live in digest.cli.main.
"""

__version__ = "0.1.0"
