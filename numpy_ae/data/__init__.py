"""Data: natural images and their patches (UFLDL), and MNIST-format loaders."""
from .classes import CLASS_NAMES, class_names, dataset_title
from .images import load_color_images, load_images, sample_patches
from .mnist import describe_dataset, find_mnist, load_mnist, read_idx

__all__ = ["load_images", "load_color_images", "sample_patches", "load_mnist", "find_mnist", "read_idx",
           "describe_dataset",
           "CLASS_NAMES", "class_names", "dataset_title"]
