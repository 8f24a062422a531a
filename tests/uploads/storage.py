"""Storage that fails for real: the application's own local storage, on a disk that holds only
`capacity` bytes. Files are written to the test's media folder as usual; once the bytes
already there and the bytes being written reach the capacity, the write stops with ENOSPC, as
on a full disk, after the part that fitted has reached the file."""

import errno
import os
from pathlib import Path

from django.conf import settings
from django.core.files import File

from tenants.storage import TenantFileSystemStorage


def _disk_used(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


class _UntilFull(File):
    """The content being stored, handing the storage no more bytes than fit."""

    def __init__(self, content: File, room: int) -> None:
        super().__init__(content, name=content.name)
        self.room = room

    def chunks(self, chunk_size=None):
        for chunk in self.file.chunks(chunk_size):
            if len(chunk) > self.room:
                yield chunk[: self.room]
                self.room = 0
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self.room -= len(chunk)
            yield chunk


class FullDiskStorage(TenantFileSystemStorage):
    capacity = 0  # bytes; the tests set it

    def _save(self, name, content):
        room = max(0, self.capacity - _disk_used(Path(settings.MEDIA_ROOT)))
        return super()._save(name, _UntilFull(content, room))
