"""Tests for numpy_ae.data.mnist: IDX parsing, search order, download, real data.

Every test writes its own small IDX files in ``tmp_path``; none touches the
network (an autouse fixture replaces the URL opener with one that fails the
test). The last tests read the real files when ``$NUMPY_AE_DATA`` points at
them (CI: ``NUMPY_AE_DATA=../shared/data``) and skip otherwise.
"""
import gzip
import hashlib
import io
import os
import re
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from numpy_ae.data import mnist
from numpy_ae.data.mnist import describe_dataset, find_mnist, load_mnist, read_idx

# Read before the autouse fixture clears it for the synthetic tests.
REAL_DATA = os.environ.get("NUMPY_AE_DATA")
REAL_SYSTEM_DIRS = dict(mnist.SYSTEM_DIRS)

FILES = mnist.FILES
IDX_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C,
             np.float32: 0x0D, np.float64: 0x0E}


# ------------------------------------------------------------------ helpers

def idx_bytes(array):
    """The IDX encoding of ``array``: magic, dtype code, ndim, big-endian dims, data."""
    array = np.asarray(array)
    code = IDX_CODES[array.dtype.type]
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path, array=None, *, raw=None, compress=None):
    """Write ``array`` (or the bytes ``raw``) to ``path``, gzip-ed if the name ends in .gz."""
    data = idx_bytes(array) if raw is None else raw
    if compress is None:
        compress = str(path).endswith(".gz")
    Path(path).write_bytes(gzip.compress(data) if compress else data)
    return Path(path)


def make_split(rng, n, shape=(28, 28)):
    images = rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255  # make sure both ends of the range occur
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    return images, labels


def write_dataset(directory, n_train=12, n_test=5, gz=True, seed=0, shape=(28, 28)):
    """Write the four standard files into ``directory``; return the arrays written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = dict(zip(FILES, (*make_split(rng, n_train, shape), *make_split(rng, n_test, shape))))
    for stem, array in arrays.items():
        write_idx(directory / (stem + (".gz" if gz else "")), array)
    return arrays


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No network, no real data, no system directories, a private cache dir."""
    def no_network(url, timeout=None):
        raise AssertionError(f"test tried to open {url}")

    monkeypatch.setattr(mnist, "_urlopen", no_network)
    monkeypatch.setattr(mnist, "SYSTEM_DIRS", {})
    monkeypatch.delenv("NUMPY_AE_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


# ----------------------------------------------------------------- read_idx

@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_read_idx_round_trip(tmp_path, gz, dtype):
    array = (np.arange(2 * 3 * 4) - 7).astype(dtype).reshape(2, 3, 4) if dtype != np.uint8 \
        else np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / "a", array, compress=gz)  # no .gz suffix either way
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, array)
    out[0, 0, 0] = 1  # writeable


def test_read_idx_labels_1d(tmp_path):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "l.gz", labels)), labels)


def test_read_idx_wrong_magic(tmp_path):
    data = bytearray(idx_bytes(np.zeros((2, 2), np.uint8)))
    data[0:2] = b"PK"
    path = write_idx(tmp_path / "bad", raw=bytes(data))
    with pytest.raises(ValueError, match=r"bad: not an IDX file: expected magic bytes 0x00 0x00, found 0x50 0x4b"):
        read_idx(path)


def test_read_idx_unknown_dtype_code(tmp_path):
    data = bytearray(idx_bytes(np.zeros((2, 2), np.uint8)))
    data[2] = 0x07
    with pytest.raises(ValueError, match="unknown IDX dtype code 0x07"):
        read_idx(write_idx(tmp_path / "x", raw=bytes(data)))


@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_truncated_data(tmp_path, gz):
    data = idx_bytes(np.zeros((3, 28, 28), np.uint8))[:-10]
    path = write_idx(tmp_path / "t", raw=data, compress=gz)
    with pytest.raises(ValueError, match=r"t: size mismatch \(truncated\).*\(3, 28, 28\).*2352 data bytes, found 2342"):
        read_idx(path)


def test_read_idx_trailing_bytes(tmp_path):
    data = idx_bytes(np.zeros((3, 4), np.int32)) + b"\0\0"
    with pytest.raises(ValueError, match=r"trailing bytes.*48 data bytes, found 50"):
        read_idx(write_idx(tmp_path / "t", raw=data))


@pytest.mark.parametrize("cut", [0, 3, 9])
def test_read_idx_truncated_header(tmp_path, cut):
    data = idx_bytes(np.zeros((3, 28, 28), np.uint8))[:cut]
    with pytest.raises(ValueError, match="truncated IDX"):
        read_idx(write_idx(tmp_path / "h", raw=data))


def test_read_idx_truncated_gzip(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.ones((50, 28, 28), np.uint8)))[:-20])
    with pytest.raises(ValueError, match=r"cut.gz: starts like a gzip file but cannot be decompressed"):
        read_idx(path)


# --------------------------------------------------------------- load_mnist

@pytest.mark.parametrize("gz", [True, False])
def test_load_round_trip_and_scaling(tmp_path, gz):
    arrays = write_dataset(tmp_path / "d", gz=gz)
    X_train, y_train, X_test, y_test = load_mnist(data_home=tmp_path / "d", download=False)
    assert X_train.shape == (12, 784) and X_test.shape == (5, 784)
    assert X_train.dtype == np.float64 and y_train.dtype == np.int64 and y_test.dtype == np.int64
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    # Row i is image i read row by row, divided by 255 (exact up to rounding).
    np.testing.assert_allclose(X_train * 255, arrays[FILES[0]].reshape(12, 784), rtol=0, atol=1e-12)
    np.testing.assert_allclose(X_test * 255, arrays[FILES[2]].reshape(5, 784), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(y_train, arrays[FILES[1]])
    np.testing.assert_array_equal(y_test, arrays[FILES[3]])


def test_load_mixed_gz_and_raw(tmp_path):
    arrays = write_dataset(tmp_path, gz=True)
    (tmp_path / (FILES[1] + ".gz")).unlink()
    write_idx(tmp_path / FILES[1], arrays[FILES[1]])
    _, y_train, _, _ = load_mnist(data_home=tmp_path, download=False)
    np.testing.assert_array_equal(y_train, arrays[FILES[1]])


def test_load_float32(tmp_path):
    arrays = write_dataset(tmp_path)
    X_train, _, X_test, _ = load_mnist(data_home=tmp_path, dtype=np.float32, download=False)
    assert X_train.dtype == np.float32 and X_test.dtype == np.float32
    expected = arrays[FILES[0]].reshape(12, 784).astype(np.float32) / np.float32(255)
    np.testing.assert_array_equal(X_train, expected)


@pytest.mark.parametrize("dtype", [np.uint8, np.int64, "not a dtype"])
def test_load_rejects_non_float_dtype(tmp_path, dtype):
    with pytest.raises(ValueError, match="dtype must be a floating dtype"):
        load_mnist(data_home=tmp_path, dtype=dtype, download=False)


@pytest.mark.parametrize("name", ["cifar10", "", None, 3])
def test_bad_name(name):
    with pytest.raises(ValueError, match=r"name must be one of 'mnist', 'fashion-mnist'"):
        load_mnist(name, download=False)


def test_name_spelling_variants(tmp_path):
    write_dataset(tmp_path / "fashion-mnist")
    assert find_mnist("Fashion_MNIST", data_home=tmp_path, download=False) == tmp_path / "fashion-mnist"


def test_label_count_mismatch(tmp_path):
    arrays = write_dataset(tmp_path)
    write_idx(tmp_path / (FILES[3] + ".gz"), arrays[FILES[3]][:-1])
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte.gz has 4 labels but .*t10k-images-idx3-ubyte.gz has 5 images"):
        load_mnist(data_home=tmp_path, download=False)


def test_labels_out_of_range(tmp_path):
    arrays = write_dataset(tmp_path)
    labels = arrays[FILES[1]].copy()
    labels[3] = 10
    write_idx(tmp_path / (FILES[1] + ".gz"), labels)
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte.gz: labels must lie in 0..9; found values in 0..10"):
        load_mnist(data_home=tmp_path, download=False)


def test_images_must_be_3d_uint8(tmp_path):
    write_dataset(tmp_path)
    write_idx(tmp_path / (FILES[0] + ".gz"), np.zeros((12, 784), np.float32))
    with pytest.raises(ValueError, match=r"expected uint8 images of shape \(N, rows, cols\); found float32 of shape \(12, 784\)"):
        load_mnist(data_home=tmp_path, download=False)


def test_corrupt_local_file_is_reported_not_skipped(tmp_path, monkeypatch):
    # A directory with all four names wins even if a file is bad: the user should
    # hear about the damaged file rather than silently get other data.
    write_dataset(tmp_path / "a")
    write_dataset(tmp_path / "env" / "mnist")
    (tmp_path / "a" / (FILES[0] + ".gz")).write_bytes(b"\x00\x00\x08\x03junk")
    monkeypatch.setenv("NUMPY_AE_DATA", str(tmp_path / "env"))
    with pytest.raises(ValueError, match="truncated IDX header"):
        load_mnist(data_home=tmp_path / "a", download=False)


# ------------------------------------------------------------- search order

def test_data_home_itself_or_name_subfolder(tmp_path):
    write_dataset(tmp_path / "flat")
    write_dataset(tmp_path / "nested" / "mnist")
    assert find_mnist("mnist", data_home=tmp_path / "flat", download=False) == tmp_path / "flat"
    assert find_mnist("mnist", data_home=tmp_path / "nested", download=False) == tmp_path / "nested" / "mnist"
    assert find_mnist("mnist", data_home=str(tmp_path / "nested"), download=False) == tmp_path / "nested" / "mnist"


def test_search_order(tmp_path, monkeypatch):
    home = tmp_path / "home_dir"
    env = tmp_path / "env_dir"
    cache = tmp_path / "cache" / "numpy_ae" / "mnist"  # XDG_CACHE_HOME from the fixture
    system = tmp_path / "system"
    monkeypatch.setattr(mnist, "SYSTEM_DIRS", {"mnist": (system,)})
    monkeypatch.setenv("NUMPY_AE_DATA", str(env))
    for directory, seed in [(home, 1), (env / "mnist", 2), (cache, 3), (system, 4)]:
        write_dataset(directory, seed=seed)

    def first_label_file():
        return load_mnist(data_home=home, download=False)[1]

    expected = {seed: write_dataset(tmp_path / f"ref{seed}", seed=seed)[FILES[1]] for seed in (1, 2, 3, 4)}
    np.testing.assert_array_equal(first_label_file(), expected[1])  # data_home beats NUMPY_AE_DATA
    assert find_mnist(data_home=home, download=False) == home
    (home / (FILES[0] + ".gz")).unlink()  # 3 of 4 files: the directory is skipped
    assert find_mnist(data_home=home, download=False) == env / "mnist"
    np.testing.assert_array_equal(first_label_file(), expected[2])
    (env / "mnist" / (FILES[2] + ".gz")).unlink()
    assert find_mnist(data_home=home, download=False) == cache
    np.testing.assert_array_equal(first_label_file(), expected[3])
    (cache / (FILES[3] + ".gz")).unlink()
    assert find_mnist(data_home=home, download=False) == system


def test_relative_numpy_ae_data_resolves_against_cwd(tmp_path, monkeypatch):
    write_dataset(tmp_path / "shared" / "data" / "mnist")
    (tmp_path / "repo").mkdir()
    monkeypatch.chdir(tmp_path / "repo")
    monkeypatch.setenv("NUMPY_AE_DATA", "../shared/data")
    found = find_mnist("mnist", download=False)
    assert found.is_absolute() and found.resolve() == (tmp_path / "shared" / "data" / "mnist")


def test_cache_defaults_to_home_dot_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME")
    write_dataset(tmp_path / "home" / ".cache" / "numpy_ae" / "fashion-mnist")
    assert find_mnist("fashion-mnist", download=False) == tmp_path / "home" / ".cache" / "numpy_ae" / "fashion-mnist"


def test_fashion_mnist_searches_debian_directory(monkeypatch):
    monkeypatch.setattr(mnist, "SYSTEM_DIRS", REAL_SYSTEM_DIRS)
    assert mnist._search_dirs("fashion-mnist")[-1] == Path("/usr/share/datasets/fashion-mnist")
    assert mnist._search_dirs("mnist")[-1] == mnist._cache_dir("mnist")


# ------------------------------------------------------- missing files, offline

def check_not_found_message(message, tmp_path, name="mnist"):
    for stem in FILES:
        assert stem in message
    for directory in [tmp_path / "nowhere", tmp_path / "nowhere" / name,
                      tmp_path / "env" / name, tmp_path / "cache" / "numpy_ae" / name]:
        assert f"  {directory}  [" in message
    assert "NUMPY_AE_DATA" in message
    assert "data_home=" in message


def test_missing_files_without_download(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMPY_AE_DATA", str(tmp_path / "env"))
    write_dataset(tmp_path / "env" / "mnist")
    (tmp_path / "env" / "mnist" / (FILES[3] + ".gz")).unlink()
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(data_home=tmp_path / "nowhere", download=False)
    message = str(info.value)
    check_not_found_message(message, tmp_path)
    assert "download=False" in message
    assert "[has 3 of 4: train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte]" in message
    assert "[no such directory]" in message
    assert not (tmp_path / "cache").exists()  # nothing created when not downloading


def test_offline_download_raises_file_not_found(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMPY_AE_DATA", str(tmp_path / "env"))
    urls = []

    def offline(url, timeout=None):
        urls.append(url)
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(mnist, "_urlopen", offline)
    with pytest.raises(FileNotFoundError) as info:
        load_mnist("mnist", data_home=tmp_path / "nowhere", download=True)
    message = str(info.value)
    check_not_found_message(message, tmp_path)
    assert "Temporary failure in name resolution" in message
    assert urls == ["https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz"]
    assert list((tmp_path / "cache" / "numpy_ae" / "mnist").iterdir()) == []  # no partial file


# ----------------------------------------------------------------- download

def fake_server(monkeypatch, name, payloads, chunk=None):
    """Serve ``payloads`` (file name -> bytes) at the mirror of ``name``; record URLs."""
    requested = []
    base = mnist.MIRRORS[name]

    def opener(url, timeout=None):
        assert url.startswith(base) and timeout is not None
        requested.append(url[len(base):])
        return io.BytesIO(payloads[url[len(base):]])

    monkeypatch.setattr(mnist, "_urlopen", opener)
    if chunk is not None:
        monkeypatch.setattr(mnist, "_CHUNK", chunk)
    return requested


def gz_payloads(tmp_path, n_train=7, n_test=3):
    arrays = write_dataset(tmp_path / "source", n_train, n_test)
    return arrays, {stem + ".gz": (tmp_path / "source" / (stem + ".gz")).read_bytes() for stem in FILES}


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_download_success(tmp_path, monkeypatch, name):
    arrays, payloads = gz_payloads(tmp_path)
    monkeypatch.setitem(mnist.MD5, name, {f: hashlib.md5(b).hexdigest() for f, b in payloads.items()})
    requested = fake_server(monkeypatch, name, payloads, chunk=1000)  # several chunks per file

    X_train, y_train, X_test, y_test = load_mnist(name, download=True)
    cache = tmp_path / "cache" / "numpy_ae" / name
    assert sorted(p.name for p in cache.iterdir()) == sorted(payloads)  # no temp files left
    assert sorted(requested) == sorted(payloads)
    for f, b in payloads.items():
        assert (cache / f).read_bytes() == b
    np.testing.assert_array_equal(y_train, arrays[FILES[1]])
    np.testing.assert_array_equal(X_test * 255, arrays[FILES[2]].reshape(3, 784))

    # Second call: found in the cache, no network.
    monkeypatch.setattr(mnist, "_urlopen", lambda url, timeout=None: pytest.fail("downloaded twice"))
    assert find_mnist(name) == cache


def test_download_fetches_only_missing_files(tmp_path, monkeypatch):
    _, payloads = gz_payloads(tmp_path)
    monkeypatch.setitem(mnist.MD5, "mnist", {f: hashlib.md5(b).hexdigest() for f, b in payloads.items()})
    cache = tmp_path / "cache" / "numpy_ae" / "mnist"
    cache.mkdir(parents=True)
    (cache / "train-images-idx3-ubyte.gz").write_bytes(payloads["train-images-idx3-ubyte.gz"])
    requested = fake_server(monkeypatch, "mnist", payloads)
    assert find_mnist("mnist") == cache
    assert "train-images-idx3-ubyte.gz" not in requested and len(requested) == 3


def test_checksum_mismatch_leaves_no_file(tmp_path, monkeypatch):
    _, payloads = gz_payloads(tmp_path)
    md5 = {f: hashlib.md5(b).hexdigest() for f, b in payloads.items()}
    md5["train-labels-idx1-ubyte.gz"] = "0" * 32
    monkeypatch.setitem(mnist.MD5, "mnist", md5)
    fake_server(monkeypatch, "mnist", payloads, chunk=7)

    actual = hashlib.md5(payloads["train-labels-idx1-ubyte.gz"]).hexdigest()
    with pytest.raises(ValueError, match=rf"checksum mismatch for train-labels-idx1-ubyte.gz .*"
                                         rf"expected MD5 0{{32}}, got {actual}"):
        load_mnist("mnist")
    cache = tmp_path / "cache" / "numpy_ae" / "mnist"
    # The file before it was verified and kept; the bad one and its temp file are gone.
    assert [p.name for p in cache.iterdir()] == ["train-images-idx3-ubyte.gz"]


def test_interrupted_download_leaves_no_file(tmp_path, monkeypatch):
    class Broken(io.BytesIO):
        def read(self, size=-1):
            if self.tell() > 0:
                raise ConnectionResetError("connection reset by peer")
            return super().read(size)

    monkeypatch.setattr(mnist, "_CHUNK", 10)
    monkeypatch.setattr(mnist, "_urlopen", lambda url, timeout=None: Broken(b"x" * 100))
    with pytest.raises(FileNotFoundError, match="connection reset by peer"):
        load_mnist("fashion-mnist")
    assert list((tmp_path / "cache" / "numpy_ae" / "fashion-mnist").iterdir()) == []


def test_published_checksums_table():
    # The published MD5 sums (as pinned by torchvision), one per file and data set.
    for name in mnist.MNIST_NAMES:
        assert sorted(mnist.MD5[name]) == sorted(stem + ".gz" for stem in FILES)
        assert all(re.fullmatch("[0-9a-f]{32}", h) for h in mnist.MD5[name].values())  # 32 lower-case hex digits
    assert mnist.MD5["mnist"]["train-images-idx3-ubyte.gz"] == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert mnist.MD5["fashion-mnist"]["t10k-labels-idx1-ubyte.gz"] == "bb300cfdad3c16e7a12a480ee83cd310"


# --------------------------------------------------------- describe_dataset

def test_describe_dataset():
    small = describe_dataset("mnist", np.zeros((8000, 1)), np.zeros((2000, 1)), "/data/mnist")
    assert small == ("mnist from /data/mnist: 8000 train / 2000 test examples "
                     "(NOTE: a 10k subset, not comparable to full-MNIST figures)")
    full = describe_dataset("fashion-mnist", np.zeros((60000, 1)), np.zeros((10000, 1)))
    assert full == "fashion-mnist: 60000 train / 10000 test examples"


# ---------------------------------------------------------------- real data

def real_data_dir(name):
    """``$NUMPY_AE_DATA`` as CI sets it, if it holds the files; else skip."""
    if not REAL_DATA:
        pytest.skip("NUMPY_AE_DATA is not set; run with NUMPY_AE_DATA=../shared/data to test the real files")
    directory = Path(REAL_DATA).absolute() / name
    if not all(mnist._files_in(directory).values()):
        pytest.skip(f"{directory} does not hold the four {name} IDX files")
    return directory


def test_real_mnist_subset(monkeypatch):
    directory = real_data_dir("mnist")
    monkeypatch.setenv("NUMPY_AE_DATA", REAL_DATA)
    assert find_mnist("mnist", download=False) == directory
    X_train, y_train, X_test, y_test = load_mnist("mnist", download=False)
    assert X_train.shape == (8000, 784) and X_test.shape == (2000, 784)
    assert 0.0 <= X_train.min() and X_train.max() <= 1.0
    np.testing.assert_array_equal(np.bincount(y_train, minlength=10),
                                  [808, 885, 800, 794, 780, 684, 815, 875, 775, 784])
    np.testing.assert_array_equal(np.bincount(y_test, minlength=10),
                                  [193, 242, 191, 238, 200, 179, 199, 195, 169, 194])
    assert "NOTE: a 10k subset" in describe_dataset("mnist", X_train, X_test, directory)


def test_real_fashion_mnist(monkeypatch):
    directory = real_data_dir("fashion-mnist")
    monkeypatch.setenv("NUMPY_AE_DATA", REAL_DATA)
    X_train, y_train, X_test, y_test = load_mnist("fashion-mnist", dtype=np.float32, download=False)
    assert X_train.shape == (60000, 784) and X_test.shape == (10000, 784)
    assert X_train.dtype == np.float32
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    # Fashion-MNIST is balanced: 6000 / 1000 images per class.
    np.testing.assert_array_equal(np.bincount(y_train, minlength=10), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(y_test, minlength=10), [1000] * 10)
    assert "NOTE" not in describe_dataset("fashion-mnist", X_train, X_test, directory)
