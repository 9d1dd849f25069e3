"""Removing the spool folders that processes killed in the middle of a call left behind.

Every call removes its own spool folders (:class:`pdpar.transport.Spool`), however it ends,
as long as its process lives to see the end. A process killed mid-call (SIGKILL, the
out-of-memory killer, a notebook kernel restarted by force) cannot: its folder
``pdpar-<pid>-...`` stays in ``/dev/shm`` or the temporary folder, holding memory. The next
call, in any process of the same user, that makes a spool folder there (``backend="processes"``,
or ``broadcast=``) removes the folders whose process is no longer alive (:func:`sweep`): a
listing of the folder, some tens of microseconds.

A folder is removed only if its name is a spool folder's, it belongs to this user, and no
process with its pid is alive. A pid reused since by another process keeps its folder until
that process ends too. Processes of another pid namespace (another container) that share the
folder would look dead: give each container its own ``/dev/shm`` (the default) or its own
``PDPAR_SHM_FOLDER``.
"""

from __future__ import annotations

import os
import re
import shutil
import stat

__all__ = ["sweep"]

_SPOOL_FOLDER = re.compile(r"pdpar-(\d+)-")


def sweep(base: str) -> list[str]:
    """Remove from ``base`` the spool folders of processes that are no longer alive; the
    names removed."""
    if os.name == "nt":  # no signal 0 to ask whether a process lives
        return []
    try:
        names = os.listdir(base)
    except OSError:
        return []
    removed = []
    for name in names:
        match = _SPOOL_FOLDER.match(name)
        if match is None or _alive(int(match.group(1))):
            continue
        path = os.path.join(base, name)
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(name)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process, say
        return True
    return True
