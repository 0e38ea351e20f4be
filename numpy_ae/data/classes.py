r"""What the labels of a data set mean: the one place that knows the class names.

Label ``k`` of a data set is ``class_names(dataset)[k]``. Figures label their
axes, colour bars and rows with these names (a reader sees "Trouser", not "1"),
and the experiments print them; nothing else spells them out.

>>> from numpy_ae.data import class_names, dataset_title
>>> class_names("fashion-mnist")[:3]
('T-shirt/top', 'Trouser', 'Pullover')
>>> class_names("Fashion-MNIST") == class_names("fashion_mnist")  # the spellings load_mnist accepts
True
>>> class_names("mnist")[7], dataset_title("mnist")
('7', 'MNIST')
"""
from __future__ import annotations

from .mnist import _DISPLAY_NAMES, _check_name

__all__ = ["CLASS_NAMES", "class_names", "dataset_title"]

#: The class names by data set (canonical name, as :func:`numpy_ae.data.load_mnist` takes it):
#: label ``k`` is ``CLASS_NAMES[dataset][k]``. Fashion-MNIST's are Zalando's own (the data set's README);
#: MNIST's classes are the digits themselves.
CLASS_NAMES = {
    "fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Ankle boot"),
    "mnist": tuple(str(d) for d in range(10)),
}


def class_names(dataset):
    """The names of ``dataset``'s classes, label ``k`` at index ``k``.

    Parameters
    ----------
    dataset : str
        ``"mnist"`` or ``"fashion-mnist"``, in any spelling :func:`numpy_ae.data.load_mnist`
        accepts (``"Fashion-MNIST"``, ``"fashion_mnist"``).

    Returns
    -------
    names : tuple of str, length K (10 for both)

    Raises
    ------
    ValueError
        ``dataset`` is not one of them.
    """
    return CLASS_NAMES[_check_name(dataset)]


def dataset_title(dataset):
    """How a figure's title names ``dataset``: ``"MNIST"`` or ``"Fashion-MNIST"`` (ValueError for others)."""
    return _DISPLAY_NAMES[_check_name(dataset)]
