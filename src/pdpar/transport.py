"""Moving chunks to worker processes through shared memory instead of a pipe.

A chunk's arguments are pickled with protocol 5, so that NumPy and Arrow data buffers come out
*out of band*, as the raw memory they occupy, instead of being copied into the pickle. When a
chunk carries at least :data:`SPOOL_MIN_BYTES`, its pickle and buffers are written once into a
file in a spool folder, and the worker receives only a small :class:`Parcel`: the file's path
and where each buffer lies in it. The worker maps the file (copy-on-write, so the arrays it
rebuilds are private and writable), removes the file at once, and rebuilds the chunk on top of
the mapping without copying its data. Smaller chunks travel inside the parcel.

Measured here for a 1 GiB float frame cut into 8 to 32 chunks: ~0.7-1.1 s by spool files,
~4.6-5.2 s for the same chunks pickled through loky's pipe.

Arrays of Python strings (object columns of pandas 2, or object columns in pandas 3) would be
pickled string by string, in the calling process: ~430 ms per million. When every element is
a ``str``, they travel as an Arrow string array instead (~115 ms per million in the caller, the
rest of the work done by the worker) and come back as the same object array of ``str``.
Arrays holding anything else (None, NaN, numbers) are pickled as they are.

Each chunk is written when it is submitted, so the spool holds only the chunks in flight, never
a second copy of the whole input. The spool folder is ``/dev/shm`` (``PDPAR_SHM_FOLDER``
overrides it) while it has room for the chunk and a margin; otherwise the system's temporary
folder on disk (``TMPDIR``). Containers often give ``/dev/shm`` only 64 MB, and a full tmpfs
must never surface as "No space left on device": a write that fails for lack of space is
retried on disk. Every file of a call is removed when the call ends, however it ends.

``broadcast=`` objects (a model, a lookup table) travel the same way but once per call
(:mod:`pdpar.broadcast`).
"""

from __future__ import annotations

import errno
import functools
import io
import mmap
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import cloudpickle
import numpy as np

from ._pandas import all_strings
from .errors import PdparError
from .sweep import sweep

__all__ = ["Spool", "Parcel", "receive", "SPOOL_MIN_BYTES", "compact", "ChunkPickler",
           "unpicklable_part", "dumps", "dumps_inband"]

#: Chunks smaller than this travel inside the parcel, through the pipe.
SPOOL_MIN_BYTES = 1 << 20

#: Free space kept in the shared-memory folder for everybody else.
SHM_RESERVE_BYTES = 64 << 20

_ALIGN = 64

#: Object arrays with fewer elements than this are pickled as they are.
STRINGS_AS_ARROW_MIN = 10_000


class ChunkPickler(cloudpickle.Pickler):
    """cloudpickle, with large object arrays of ``str`` sent as Arrow string arrays."""

    def reducer_override(self, obj: Any) -> Any:
        if (type(obj) is np.ndarray and obj.dtype == object
                and obj.size >= STRINGS_AS_ARROW_MIN):
            order: Literal["C", "F"] = (
                "F" if obj.flags.f_contiguous and not obj.flags.c_contiguous else "C")
            flat = obj.ravel(order=order)  # a view for contiguous arrays
            if all_strings(flat):
                import pyarrow as pa

                return (_strings_from_layout,
                        (pa.array(flat, type=pa.large_string()), obj.shape, order))
        return super().reducer_override(obj)


def _strings_from_layout(strings: Any, shape: tuple[int, ...], order: str) -> np.ndarray:
    """The object array of ``str`` that :class:`ChunkPickler` sent as Arrow strings."""
    return strings.to_numpy(zero_copy_only=False).reshape(shape, order=order)


def dumps(obj: Any, buffer_callback: Callable[[pickle.PickleBuffer], Any]) -> bytes:
    with io.BytesIO() as file:
        ChunkPickler(file, protocol=5, buffer_callback=buffer_callback).dump(obj)
        return file.getvalue()


@dataclass(frozen=True)
class Parcel:
    """What a worker receives for one chunk: the pickle, and where its buffers are.

    With ``path`` set, ``head`` and ``buffers`` are ``(offset, length)`` ranges of that file;
    otherwise ``inline`` holds the pickle and its buffers.
    """

    path: str | None
    head: tuple[int, int] = (0, 0)
    buffers: tuple[tuple[int, int], ...] = ()
    inline: tuple[bytes | bytearray, ...] = field(default=())
    shared: bool = False  # read by many workers: the spool removes the file, not the reader


def dumps_inband(obj: Any) -> bytes:
    """``obj`` pickled as chunks are, with its buffers inside the pickle."""
    with io.BytesIO() as file:
        ChunkPickler(file, protocol=5).dump(obj)
        return file.getvalue()


def _pickles(obj: Any) -> bool:
    try:
        dumps(obj, lambda buffer: None)
    except Exception:
        return False
    return True


def unpicklable_part(args: tuple) -> str:
    """Which of a chunk's arguments cannot be pickled, in the user's words: the function, an
    argument given for it, a ``broadcast=`` object, or the data."""
    for arg in args:
        if not _pickles(arg):
            return _name_of_part(arg)
    return "the chunk"


def _name_of_part(obj: Any) -> str:
    parts: Any = None
    if isinstance(obj, functools.partial):  # a function with arguments bound to it
        parts = (obj.func, *obj.args, *obj.keywords.values())
    elif callable(getattr(obj, "pickled_parts", None)):  # a holder of several things
        parts = obj.pickled_parts()
    for part in parts or ():
        if not _pickles(part):
            return _name_of_part(part)
    part_name = getattr(type(obj), "part_name", None)  # a wrapper that names itself
    if isinstance(part_name, str):
        return part_name
    if isinstance(obj, (tuple, list, dict)):
        return "an argument given for the function (args= or keyword arguments)"
    if callable(obj) and not hasattr(obj, "dtype") and not hasattr(obj, "dtypes"):
        name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
        return f"the function {name}"
    return f"the data ({type(obj).__name__})"


def shm_folder() -> str | None:
    """The shared-memory folder, or None if there is none to write to."""
    folder = os.environ.get("PDPAR_SHM_FOLDER", "/dev/shm")
    if folder and os.path.isdir(folder) and os.access(folder, os.W_OK):
        return folder
    return None


def free_bytes(folder: str) -> int:
    """Bytes that may still be written to ``folder``'s file system."""
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return 0


class Spool:
    """The spool folders of one call: writes parcels, and removes every file at the end.

    Use as a context manager; :meth:`send` turns a chunk's arguments into a :class:`Parcel`.
    """

    def __init__(self) -> None:
        self._folders: dict[str, str] = {}  # base folder -> this call's folder in it
        self._count = 0
        self.spooled_bytes = 0

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove this call's folders and whatever the workers have not removed yet."""
        for folder in self._folders.values():
            # A worker still running a chunk of a failed call may create a file in the folder
            # while it is being removed. Renaming it first makes its path vanish at once, so
            # nothing can be added to it behind the removal's back.
            doomed = f"{folder}-closed"
            try:
                os.rename(folder, doomed)
            except OSError:
                doomed = folder
            shutil.rmtree(doomed, ignore_errors=True)
        self._folders.clear()

    def send(self, args: Any, shared: bool = False) -> Parcel:
        """Pickle ``args`` for a worker: in a spool file when large, else in the parcel.

        A ``shared`` parcel may be received by many workers; its file stays until
        :meth:`close`.
        """
        buffers: list[pickle.PickleBuffer] = []
        try:
            head = dumps(args, buffers.append)
        except Exception as exc:
            raise PdparError(
                f"pdpar could not pickle {unpicklable_part(args)} to send it to the worker "
                f"processes: {exc!r}. With backend='processes' the function, its arguments "
                "and the data must be picklable (lambdas and closures are); backend='threads' "
                "needs no pickling."
            ) from exc
        raws = [buf.raw() for buf in buffers]
        size = len(head) + sum(raw.nbytes for raw in raws)
        if size < SPOOL_MIN_BYTES:
            # bytearrays, so that arrays rebuilt on them are writable, as the caller's were
            return Parcel(None, inline=(head, *(bytearray(raw) for raw in raws)))
        self._count += 1
        name = f"chunk-{self._count}"
        for base in self._bases(size):
            try:
                return self._write(os.path.join(self._folder(base), name), head, raws, shared)
            except OSError as exc:
                if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                    raise
        raise PdparError(f"no room to spool a chunk of {size} bytes in {self._bases(0)}")

    def _bases(self, size: int) -> list[str]:
        disk = tempfile.gettempdir()
        shm = shm_folder()
        if shm is not None and free_bytes(shm) - size > SHM_RESERVE_BYTES:
            return [shm, disk]
        return [disk]

    def scratch_folder(self) -> str:
        """This call's folder (made on first use) for small files of its own; removed with
        the rest at :meth:`close`."""
        return self._folder(self._bases(0)[0])

    def _folder(self, base: str) -> str:
        if base not in self._folders:
            sweep(base)  # the folders of processes killed mid-call
            self._folders[base] = tempfile.mkdtemp(prefix=f"pdpar-{os.getpid()}-", dir=base)
        return self._folders[base]

    def _write(self, path: str, head: bytes, raws: Sequence[memoryview],
               shared: bool) -> Parcel:
        ranges = []
        with open(path, "wb") as f:
            try:
                f.write(head)
                pos = len(head)
                for raw in raws:
                    pad = -pos % _ALIGN
                    f.write(b"\0" * pad)
                    pos += pad
                    f.write(raw)
                    ranges.append((pos, raw.nbytes))
                    pos += raw.nbytes
            except OSError:
                f.close()
                os.unlink(path)
                raise
        self.spooled_bytes += pos
        return Parcel(path, (0, len(head)), tuple(ranges), shared=shared)


def receive(parcel: Parcel) -> Any:
    """Rebuild what a parcel carries (in the worker). Removes the file unless it is shared."""
    if parcel.path is None:
        head, *inline = parcel.inline
        return pickle.loads(head, buffers=inline)
    with open(parcel.path, "rb") as f:
        mapping = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    if not parcel.shared:
        os.unlink(parcel.path)  # the mapping keeps the data until the chunk is done with it
    view = memoryview(mapping)
    start, length = parcel.head
    buffers = [view[offset:offset + n] for offset, n in parcel.buffers]
    return pickle.loads(view[start:start + length], buffers=buffers)


def compact(result: Any) -> Any:
    """A worker's chunk result made cheap to send back: a list of NumPy scalars of one type
    (a row function's ``np.float64`` results) travels as one array.

    Pickling a NumPy scalar costs several microseconds (measured here: 12,000 ``np.float64``
    took 88 ms to pickle and 7 ms to unpickle, as one array 0.8 ms): as much as a light row
    function itself. The list is rebuilt on arrival with scalars of the same type. A tuple's
    lists (a chunk of groups' results) are compacted too.
    """
    if type(result) is tuple:
        return tuple(compact(part) for part in result)
    if type(result) is list and len(result) > 1:
        kind = type(result[0])
        if kind in _SCALAR_TYPES and all(type(x) is kind for x in result):
            return _Scalars(result)
    return result


#: NumPy scalar types whose array holds them unchanged (not datetime64 and timedelta64: their
#: units would be unified).
_SCALAR_TYPES = frozenset(np.dtype(code).type for code in "?bBhHiIlLqQefdgFDG")


class _Scalars(list):
    """Same-typed NumPy scalars that pickle as one array and unpickle as a plain list."""

    def __reduce__(self) -> tuple[Any, ...]:
        return _scalars_from, (np.array(self),)


def _scalars_from(values: np.ndarray) -> list[Any]:
    return list(values)  # iterating an array yields scalars of its dtype
