"""One .eml file per message in a folder: the embedded default.

Files are written under a temporary name and renamed, so a reader of the
folder never sees half a message.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from digest.errors import TransportUnavailable


class FileTransport:
    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.count = 0

    def open(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TransportUnavailable(f"cannot create outbox folder {self.folder}: {exc.strerror}") from exc

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        self.count += 1
        safe = re.sub(r"[^A-Za-z0-9@._-]", "_", recipient)
        path = self.folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{self.count:06d}-{safe}.eml"
        partial = path.with_suffix(".tmp")
        try:
            partial.write_bytes(message)
            partial.replace(path)
        except OSError as exc:
            raise TransportUnavailable(f"cannot write {path}: {exc.strerror}") from exc

    def close(self) -> None:
        pass
