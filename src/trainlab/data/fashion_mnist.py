"""Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 70,000 28×28 grey images of 10 clothing classes,
found locally, in the cache, or downloaded and verified — offline-first (:mod:`~trainlab.data.
locate`). If the files cannot be had and the caller allows ``fallback=True``, the bundled 8×8
digits stand in (resized to 28×28), announced in one line and flagged in the result
(``fallback=True``); nothing is silent.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

import torch
from torch import Tensor

from trainlab.data.fallback import digits_arrays
from trainlab.data.idx import IDX_IMAGES, IDX_LABELS, read_idx
from trainlab.data.locate import DataFile, DataUnavailable, locate

__all__ = ["CLASSES", "FILES", "ImageData", "digits_fallback", "load_fashion_mnist", "subset"]

FILES = {  # name: the published .gz file and its MD5
    "train_images": DataFile("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
    "train_labels": DataFile("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
    "test_images": DataFile("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
    "test_labels": DataFile("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
}
MIRRORS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
CLASSES = (
    "t-shirt",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
)


@dataclass(frozen=True)
class ImageData:
    """Images as uint8 (N, 1, H, W) tensors (scaled to [0, 1] only per batch), int64 labels;
    ``name`` the data set, ``source`` where it came from, ``fallback`` whether it stands in
    for the book's data."""

    train_images: Tensor
    train_labels: Tensor
    test_images: Tensor
    test_labels: Tensor
    classes: tuple[str, ...]
    source: str
    name: str = "Fashion-MNIST"
    fallback: bool = False


def load_fashion_mnist(
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    download: bool = True,
    fallback: bool = False,
    base_urls: tuple[str, ...] = MIRRORS,
    progress: TextIO | None = sys.stderr,
) -> ImageData:
    """Fashion-MNIST's 60,000 training and 10,000 test images, verified by MD5 and parsed.

    Raises :class:`~trainlab.data.locate.DataUnavailable` (saying where it looked) when the
    files cannot be had and ``fallback`` is False; ValueError for a file that is present but
    corrupt.
    """
    try:
        paths = dict(
            zip(
                FILES,
                locate(
                    "Fashion-MNIST",
                    list(FILES.values()),
                    "fashion-mnist",
                    data_dir,
                    cache_dir,
                    download,
                    base_urls,
                    progress,
                ),
                strict=True,
            )
        )
    except DataUnavailable as err:
        if not fallback:
            raise
        if progress is not None:
            progress.write(
                f"trainlab: {err.message(cli=False).split('. To fix')[0]}; using the bundled "
                "8×8 digits (resized to 28×28) instead: results on them are flagged\n"
            )
        return digits_fallback(reason=f"{err.missing} not found")
    images = {
        k: read_idx(paths[k], IDX_IMAGES).unsqueeze(1) for k in ("train_images", "test_images")
    }
    labels = {k: read_idx(paths[k], IDX_LABELS).long() for k in ("train_labels", "test_labels")}
    for split in ("train", "test"):
        if len(images[f"{split}_images"]) != len(labels[f"{split}_labels"]):
            raise ValueError(f"the {split} images and labels differ in count")
    folder = paths["train_images"].parent
    return ImageData(**images, **labels, classes=CLASSES, source=f"Fashion-MNIST ({folder})")


def subset(data: ImageData, n_train: int, n_test: int | None = None) -> ImageData:
    """The first ``n_train`` training and ``n_test`` (default n_train // 6) test examples."""
    n_test = max(1, n_train // 6) if n_test is None else n_test
    return replace(
        data,
        train_images=data.train_images[:n_train],
        train_labels=data.train_labels[:n_train],
        test_images=data.test_images[:n_test],
        test_labels=data.test_labels[:n_test],
        source=f"{data.source}, first {n_train} train / {n_test} test",
    )


def digits_fallback(reason: str = "", size: int = 28, test_fraction: float = 0.2) -> ImageData:
    """The bundled 1,797 8×8 handwritten digits (:mod:`~trainlab.data.fallback`), scaled to
    uint8 and resized to ``size``×``size``; a fixed 80/20 split."""
    digits, labels = digits_arrays()
    x = digits.float().unsqueeze(1) / 16  # (1797, 1, 8, 8)
    x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    images = (x.clamp(0, 1) * 255).round().to(torch.uint8)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
    n_test = int(len(labels) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    why = f" ({reason})" if reason else ""
    return ImageData(
        images[train],
        labels[train],
        images[test],
        labels[test],
        tuple(str(d) for d in range(10)),
        f"bundled 8×8 digits resized to {size}×{size}{why}",
        name="digits (stand-in for Fashion-MNIST)",
        fallback=True,
    )
