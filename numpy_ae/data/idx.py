r"""The IDX file format of MNIST and Fashion-MNIST: :func:`read_idx`, gzip-compressed or raw.

An IDX file is a magic number (two zero bytes, a type code, the number of
dimensions), the dimensions as big-endian 32-bit integers, then the data in
C order (LeCun et al.'s description on the MNIST page).
"""
from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

__all__ = ["IDX_DTYPES", "read_idx"]

# IDX dtype code -> big-endian NumPy dtype.
IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

def read_idx(path):
    r"""Read one IDX file (gzip-compressed or raw) into a NumPy array.

    Compression is detected from the content (gzip files start with the bytes
    ``1f 8b``), not from the file name.

    Parameters
    ----------
    path : str or os.PathLike
        The IDX file.

    Returns
    -------
    array : ndarray
        Shape ``dims`` from the header, e.g. ``(N, 28, 28)`` for images or
        ``(N,)`` for labels; dtype from the header's type code in native byte
        order (uint8 for MNIST).

    Raises
    ------
    ValueError
        If the file is not valid gzip, the magic number is wrong, the type code
        is unknown, or the data after the header is shorter or longer than the
        header's dims promise. The message names the file, what was expected
        and what was found.
    """
    path = Path(path)
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:  # corrupt or cut-off gzip
            raise ValueError(f"{path}: starts like a gzip file but cannot be decompressed "
                             f"({exc}); the file is damaged or incomplete, download it again") from exc

    if len(data) < 4:
        raise ValueError(f"{path}: truncated IDX file: expected a header of at least 4 bytes, "
                         f"found {len(data)} bytes")
    if data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an IDX file: expected magic bytes 0x00 0x00, "
                         f"found 0x{data[0]:02x} 0x{data[1]:02x}")
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise ValueError(f"{path}: unknown IDX dtype code 0x{code:02X}; expected one of {known}")
    dtype = IDX_DTYPES[code]

    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise ValueError(f"{path}: truncated IDX header: {ndim} dimensions need "
                         f"{header_size} header bytes, found {len(data)} bytes")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))

    count = math.prod(dims)
    expected = count * dtype.itemsize
    found = len(data) - header_size
    if found != expected:
        what = "truncated" if found < expected else "trailing bytes"
        raise ValueError(f"{path}: size mismatch ({what}): the header promises shape {dims} of "
                         f"{dtype.name} = {expected} data bytes, found {found} bytes")

    array = np.frombuffer(data, dtype=dtype, count=count, offset=header_size).reshape(dims)
    return array.astype(dtype.newbyteorder("="))  # native byte order, writeable copy
