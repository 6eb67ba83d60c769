"""What every flow is handed: the settings, the database and a transport, built once by an entry point."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from digest.settings import Settings
from digest.db import create_schema, make_engine, make_sessionmaker
from digest.deliver.transports import Transport, make_transport
from digest.errors import ConfigError
from digest.render.html import make_environment
from subscribers.db import utcnow


@dataclass
class Runtime:
    """Everything a flow needs, built once by an entry point."""

    settings: Settings
    sessions: sessionmaker[Session]
    transport_factory: Callable[[], Transport]
    now: Callable[[], datetime] = utcnow
    templates: object = field(default=None)
    processes: int = 1  # sender processes an issue gets: delivery.processes, set by `digest send` and `worker`

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        engine = make_engine(settings.storage.url)
        create_schema(engine)
        return cls(settings=settings, sessions=make_sessionmaker(engine),
                   transport_factory=lambda: make_transport(settings.delivery),
                   templates=make_environment(settings.render.templates_dir or None))


def secret_key(rt: Runtime) -> str:
    site = rt.settings.site
    if not site.secret_key:
        raise ConfigError(
            f"the environment variable {site.secret_key_env} is not set",
            hint="it signs every reader's unsubscribe link; set it to a long random string and keep it",
        )
    return site.secret_key


__all__ = ["Runtime", "secret_key"]
