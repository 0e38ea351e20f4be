"""Data: natural images and their patches (UFLDL), and MNIST-format loaders."""
from .images import load_images, load_color_images, sample_patches
from .mnist import describe_dataset, find_mnist, load_mnist, read_idx
