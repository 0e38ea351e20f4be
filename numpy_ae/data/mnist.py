r"""MNIST and Fashion-MNIST from the four standard IDX files.

Both data sets ship as four files in the IDX format of LeCun et al.:

=============================  ==========================  ==============
file                           contents                    shape
=============================  ==========================  ==============
``train-images-idx3-ubyte``    training images, uint8      ``(60000, 28, 28)``
``train-labels-idx1-ubyte``    training labels 0..9        ``(60000,)``
``t10k-images-idx3-ubyte``     test images, uint8          ``(10000, 28, 28)``
``t10k-labels-idx1-ubyte``     test labels 0..9            ``(10000,)``
=============================  ==========================  ==============

usually gzip-compressed (``.gz``). An IDX file is a header followed by the raw
array in C order, every number big-endian::

    byte 0, 1   0x00 0x00          magic: always two zero bytes
    byte 2      dtype code         0x08 uint8, 0x09 int8, 0x0B int16,
                                   0x0C int32, 0x0D float32, 0x0E float64
    byte 3      ndim               3 for images, 1 for labels
    4 * ndim    dims               each a big-endian uint32: N, rows, cols
    the rest    prod(dims) items   of the given dtype

So the training images start with ``00 00 08 03 | 00 00 EA 60 | 00 00 00 1C |
00 00 00 1C`` (60000 x 28 x 28) and hold exactly 47,040,000 bytes after that.
:func:`read_idx` checks all of this and says what it found when it is wrong.

:func:`load_mnist` turns the files into the library's convention: rows are
examples, ``X`` of shape ``(N, D)`` with ``D = 28 * 28 = 784`` scaled to
``[0, 1]``, labels ``y`` of shape ``(N,)``. Where the files come from is decided
by :func:`find_mnist`, which searches, in order,

1. ``data_home`` itself, then ``data_home/<name>`` (when ``data_home`` is given),
2. ``$NUMPY_AE_DATA/<name>`` (a relative path counts from the working directory),
3. the per-user cache ``$XDG_CACHE_HOME/numpy_ae/<name>``
   (default ``~/.cache/numpy_ae/<name>``),
4. for Fashion-MNIST, ``/usr/share/datasets/fashion-mnist``
   (Debian package ``dataset-fashion-mnist``),

and takes the first directory holding all four files, each either ``.gz`` or
uncompressed. If none does, it downloads the ``.gz`` files into the cache
directory and checks each against its published MD5 sum. Files found on disk
are checked by their IDX headers only, not by checksum: the Debian package
recompresses them, and a subset (like the 10k MNIST subset used in CI) is
legitimate.

Example
-------
>>> from numpy_ae.data.mnist import find_mnist, load_mnist, describe_dataset
>>> path = find_mnist("fashion-mnist")                      # doctest: +SKIP
>>> X_train, y_train, X_test, y_test = load_mnist("fashion-mnist", data_home=path)  # doctest: +SKIP
>>> X_train.shape, X_train.dtype, y_train.dtype             # doctest: +SKIP
((60000, 784), dtype('float64'), dtype('int64'))
>>> describe_dataset("fashion-mnist", X_train, X_test, path)  # doctest: +SKIP
'fashion-mnist from /home/me/.cache/numpy_ae/fashion-mnist: 60000 train / 10000 test examples'
"""
from __future__ import annotations

import hashlib
import http.client
import logging
import os
import tempfile
import urllib.request
from pathlib import Path

import numpy as np

from .idx import IDX_DTYPES, read_idx  # noqa: F401  (IDX_DTYPES re-exported: the format lives in idx.py)

__all__ = ["load_mnist", "find_mnist", "read_idx", "describe_dataset", "MNIST_NAMES"]

logger = logging.getLogger(__name__)

#: The names :func:`load_mnist` accepts.
MNIST_NAMES = ("mnist", "fashion-mnist")
_DISPLAY_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}

# The four files, without extension, in the order load_mnist returns them.
FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

# Where to download from, and the MD5 sums of the .gz files published by the
# data sets' authors (the same values torchvision pins).
MIRRORS = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
}
MD5 = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}
# Directories installed by system packages, searched after the user's own.
SYSTEM_DIRS = {"fashion-mnist": (Path("/usr/share/datasets/fashion-mnist"),)}

# Size of the full data sets; anything smaller is reported as a subset.
FULL_SIZE = (60000, 10000)

# The one place this module touches the network; tests replace it with a fake.
_urlopen = urllib.request.urlopen
_DOWNLOAD_TIMEOUT = 60  # seconds without data before giving up
_CHUNK = 1 << 20


# ------------------------------------------------------------ finding the files

def _check_name(name):
    """Return the canonical data set name ('Fashion_MNIST' -> 'fashion-mnist')."""
    canonical = name.lower().replace("_", "-") if isinstance(name, str) else None
    if canonical not in MNIST_NAMES:
        raise ValueError(f"name must be one of {', '.join(map(repr, MNIST_NAMES))}; got {name!r}")
    return canonical


def _cache_dir(name):
    """The per-user download directory: ``$XDG_CACHE_HOME/numpy_ae/<name>``."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(root).expanduser().absolute() / "numpy_ae" / name


def _search_dirs(name, data_home=None):
    """Candidate directories, in the order they are searched (duplicates removed)."""
    dirs = []
    if data_home is not None:
        home = Path(data_home).expanduser().absolute()
        dirs += [home, home / name]
    env = os.environ.get("NUMPY_AE_DATA")
    if env:
        dirs.append(Path(env).expanduser().absolute() / name)
    dirs.append(_cache_dir(name))
    dirs += SYSTEM_DIRS.get(name, ())
    unique = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def _files_in(directory):
    """Map each of the four files to its path in ``directory`` (.gz or raw), or None."""
    found = {}
    for stem in FILES:
        for candidate in (directory / (stem + ".gz"), directory / stem):
            if candidate.is_file():
                found[stem] = candidate
                break
        else:
            found[stem] = None
    return found


def _download(url, dest, md5):
    """Download ``url`` to ``dest`` atomically, checking its MD5 sum.

    The bytes go to a temporary file next to ``dest``, which is renamed to
    ``dest`` only once the checksum matches; on any error it is removed, so
    ``dest`` is either absent or complete.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        digest = hashlib.md5()
        with os.fdopen(fd, "wb") as out, _urlopen(url, timeout=_DOWNLOAD_TIMEOUT) as response:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
        if digest.hexdigest() != md5:
            raise ValueError(f"checksum mismatch for {dest.name} downloaded from {url}: "
                             f"expected MD5 {md5}, got {digest.hexdigest()}. The download is "
                             "corrupt or the mirror changed; nothing was saved. Try again, "
                             "or fetch the file yourself and put it in the directory shown.")
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.remove(tmp)
        except FileNotFoundError:
            pass
        raise


def _not_found_message(name, searched, reason=""):
    lines = [f"Could not find the {name} files "
             f"{', '.join(stem + '[.gz]' for stem in FILES)}.",
             "Searched, in order:"]
    for directory, found in searched:
        have = [stem for stem in FILES if found[stem] is not None]
        if not directory.is_dir():
            status = "no such directory"
        else:
            status = f"has {len(have)} of 4" + (f": {', '.join(have)}" if have else "")
        lines.append(f"  {directory}  [{status}]")
    if reason:
        lines.append(reason)
    lines.append(f"Put the four files (from {MIRRORS[name]}) in one of these directories, "
                 f"for example set NUMPY_AE_DATA=/some/folder and use /some/folder/{name}/, "
                 "or pass data_home= to load_mnist.")
    return "\n".join(lines)


def find_mnist(name="mnist", data_home=None, download=True):
    r"""Return the directory holding the four IDX files of ``name``.

    Searches ``data_home``, ``data_home/<name>``, ``$NUMPY_AE_DATA/<name>``,
    the cache directory ``$XDG_CACHE_HOME/numpy_ae/<name>`` (default
    ``~/.cache/numpy_ae/<name>``) and, for Fashion-MNIST,
    ``/usr/share/datasets/fashion-mnist``; the first directory with all four
    files wins. If none has them and ``download`` is true, downloads the
    missing ``.gz`` files into the cache directory, verifying their MD5 sums.

    Parameters
    ----------
    name : {"mnist", "fashion-mnist"}
    data_home : str or os.PathLike or None
        A folder holding the files, or holding a ``<name>`` subfolder with them.
    download : bool
        Whether to download when the files are nowhere on disk.

    Returns
    -------
    directory : pathlib.Path
        Absolute path of the directory used.

    Raises
    ------
    FileNotFoundError
        No directory has all four files and downloading is off or failed. The
        message lists the files, every directory searched and where to put them.
    ValueError
        Bad ``name``, or a downloaded file does not match its MD5 sum.
    """
    name = _check_name(name)
    if not isinstance(download, bool):
        raise ValueError(f"download must be True or False; got {download!r}")

    searched = []
    for directory in _search_dirs(name, data_home):
        found = _files_in(directory)
        if all(found.values()):
            return directory
        searched.append((directory, found))

    if not download:
        raise FileNotFoundError(_not_found_message(name, searched, "Downloading is off (download=False); with internet access, "
                                "download=True fetches them into the cache directory."))

    cache = _cache_dir(name)
    url = ""
    try:
        cache.mkdir(parents=True, exist_ok=True)
        missing = [stem for stem, path in _files_in(cache).items() if path is None]
        for stem in missing:
            url = MIRRORS[name] + stem + ".gz"
            logger.info("downloading %s to %s", url, cache)
            _download(url, cache / (stem + ".gz"), MD5[name][stem + ".gz"])
    except (OSError, http.client.HTTPException) as exc:  # no network, HTTP error, read-only disk...
        where = f" from {url}" if url else ""
        raise FileNotFoundError(_not_found_message(
            name, searched, f"Downloading{where} into {cache} failed: {exc}")) from exc
    return cache


# ------------------------------------------------------------------- loading

def _load_pair(images_path, labels_path, dtype):
    """Read one split: images ``(N, rows, cols)`` uint8 and labels ``(N,)``."""
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"{images_path}: expected uint8 images of shape (N, rows, cols); "
                         f"found {images.dtype} of shape {images.shape}")
    if labels.ndim != 1:
        raise ValueError(f"{labels_path}: expected labels of shape (N,); found shape {labels.shape}")
    if len(labels) != len(images):
        raise ValueError(f"{labels_path} has {len(labels)} labels but {images_path} has "
                         f"{len(images)} images; the files do not belong together")
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"{labels_path}: labels must lie in 0..9; "
                         f"found values in {labels.min()}..{labels.max()}")
    X = images.reshape(len(images), -1).astype(dtype)
    X /= 255.0
    return X, labels.astype(np.int64)


def load_mnist(name="mnist", data_home=None, dtype=np.float64, download=True):
    r"""Load MNIST or Fashion-MNIST as rows of pixels in ``[0, 1]``.

    The files are located by :func:`find_mnist` (same ``name``, ``data_home``
    and ``download``); call it yourself to learn which directory was used.

    Parameters
    ----------
    name : {"mnist", "fashion-mnist"}
    data_home : str or os.PathLike or None
        A folder holding the four files, or holding a ``<name>`` subfolder with
        them. Searched first; see :func:`find_mnist` for the rest of the order.
    dtype : floating dtype
        Dtype of the images, ``np.float64`` (default) or ``np.float32``.
    download : bool
        Whether to download into the cache directory when the files are
        nowhere on disk.

    Returns
    -------
    X_train : ndarray, shape (N_train, D)
        Training images, one per row, ``D = 784`` (28 x 28, row by row), pixel
        values ``uint8 / 255`` in ``dtype``.
    y_train : ndarray of int64, shape (N_train,)
        Training labels 0..9.
    X_test : ndarray, shape (N_test, D)
    y_test : ndarray of int64, shape (N_test,)

    Raises
    ------
    FileNotFoundError
        The files are nowhere on disk and could not be downloaded.
    ValueError
        Bad ``name`` or ``dtype``; a malformed file (see :func:`read_idx`);
        label and image counts that differ; labels outside 0..9.
    """
    try:
        dtype = np.dtype(dtype)
    except TypeError as exc:
        raise ValueError(f"dtype must be a floating dtype such as np.float32; got {dtype!r}") from exc
    if not np.issubdtype(dtype, np.floating):
        raise ValueError(f"dtype must be a floating dtype such as np.float32 or np.float64; got {dtype}")

    directory = find_mnist(name, data_home=data_home, download=download)
    paths = _files_in(directory)
    X_train, y_train = _load_pair(paths[FILES[0]], paths[FILES[1]], dtype)
    X_test, y_test = _load_pair(paths[FILES[2]], paths[FILES[3]], dtype)
    if X_train.shape[1] != X_test.shape[1]:
        raise ValueError(f"train images have {X_train.shape[1]} pixels but test images have "
                         f"{X_test.shape[1]}; the files in {directory} do not belong together")
    return X_train, y_train, X_test, y_test


def describe_dataset(name, X_train, X_test, path=None):
    r"""One line saying which data was used, flagging subsets.

    Parameters
    ----------
    name : str
        Data set name, e.g. ``"mnist"``.
    X_train : ndarray, shape (N_train, D)
    X_test : ndarray, shape (N_test, D)
    path : str or os.PathLike or None
        Directory the data came from (see :func:`find_mnist`), if known.

    Returns
    -------
    line : str
        For example ``"mnist from /data/mnist: 8000 train / 2000 test examples
        (NOTE: a 10k subset, not comparable to full-MNIST figures)"``. The note
        appears when either split is smaller than the full 60000 / 10000.
    """
    n_train, n_test = len(X_train), len(X_test)
    line = name + (f" from {path}" if path is not None else "") + \
        f": {n_train} train / {n_test} test examples"
    if n_train < FULL_SIZE[0] or n_test < FULL_SIZE[1]:
        total = n_train + n_test
        size = f"{total // 1000}k" if total % 1000 == 0 else str(total)
        full = _DISPLAY_NAMES.get(name, name)
        line += f" (NOTE: a {size} subset, not comparable to full-{full} figures)"
    return line
