"""numpy_ae.data.classes: the one place that knows what the labels mean."""
import pytest

from numpy_ae.data import CLASS_NAMES, class_names, dataset_title

FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def test_fashion_mnist_names_are_zalandos_in_label_order():
    assert class_names("fashion-mnist") == FASHION  # label 0 T-shirt/top ... label 9 Ankle boot


def test_mnist_classes_are_the_digits():
    assert class_names("mnist") == tuple("0123456789")


@pytest.mark.parametrize("spelling", ["Fashion-MNIST", "fashion_mnist", "FASHION-MNIST"])
def test_every_spelling_load_mnist_accepts(spelling):
    assert class_names(spelling) is CLASS_NAMES["fashion-mnist"]
    assert dataset_title(spelling) == "Fashion-MNIST"


def test_unknown_data_set_is_a_value_error_naming_the_choices():
    with pytest.raises(ValueError, match="'mnist', 'fashion-mnist'.*'cifar10'"):
        class_names("cifar10")
    with pytest.raises(ValueError, match="got 'svhn'"):
        dataset_title("svhn")
