"""What every command gets from the group: the settings path and, on first use, the runtime.

It lives apart from main.py so the command modules can use it without importing
the group that registers them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import click

from digest.config import load_settings
from digest.settings import Settings

if TYPE_CHECKING:
    from digest.flows.runtime import Runtime


class Context:
    def __init__(self, config_path: str, verbose: bool) -> None:
        self.config_path = config_path
        self.verbose = verbose
        self._runtime: Runtime | None = None
        self._settings: Settings | None = None

    def settings(self) -> Settings:
        """The settings alone, read once: for commands that look at the database before (or without) migrating
        it (status, backup, restore)."""
        if self._settings is None:
            self._settings = load_settings(self.config_path)
        return self._settings

    def runtime(self, *, pages: bool = True) -> Runtime:
        """Settings read and the database opened once per command, when the command first needs them.

        pages=False (--no-pages) turns article page fetching off for this command, whatever config.toml says.
        """
        if self._runtime is None:
            from digest.flows.runtime import Runtime  # here: a command that never opens the database skips its imports

            settings = self.settings()
            if not pages:
                settings = replace(settings, gather=replace(settings.gather, max_pages_per_source=0))
            self._runtime = Runtime.create(settings)
        return self._runtime


pass_context = click.make_pass_decorator(Context)
