"""Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 70,000 28×28 grey images of 10 clothing classes,
found locally, in the cache, or downloaded and verified — offline-first.

Where the files come from, in order: ``data_dir`` (or $TRAINLAB_DATA_DIR), then the cache
(``cache_dir``, $TRAINLAB_CACHE_DIR or ~/.cache/trainlab), then a download into the cache when
``download=True``. If all fail and the caller allows ``fallback=True``, scikit-learn's bundled
8×8 digits stand in (resized to 28×28) and the result says so in ``source``; nothing is silent.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import torch
from torch import Tensor

from trainlab.data.airfoil import find_data_file
from trainlab.data.download import cache_dir as default_cache_dir
from trainlab.data.download import checksum
from trainlab.data.download import download as fetch
from trainlab.data.idx import IDX_IMAGES, IDX_LABELS, read_idx

__all__ = ["CLASSES", "FILES", "ImageData", "digits_fallback", "load_fashion_mnist", "subset"]

FILES = {  # name: (file, MD5 of the published .gz file)
    "train_images": ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
    "train_labels": ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
    "test_images": ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
    "test_labels": ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
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
    """Images as uint8 (N, 1, H, W) tensors (scaled to [0, 1] only per batch), int64 labels."""

    train_images: Tensor
    train_labels: Tensor
    test_images: Tensor
    test_labels: Tensor
    classes: tuple[str, ...]
    source: str


def _verified(path: Path | None, md5: str) -> bool:
    return path is not None and path.is_file() and checksum(path, "md5") == md5


def _locate(data_dir, cache: Path, download: bool, base_urls, progress) -> dict[str, Path]:
    """The four verified files, fetching into ``cache`` what is missing when allowed."""
    found = {}
    for key, (name, md5) in FILES.items():
        local = find_data_file(name, data_dir)
        if local is not None:
            if not _verified(local, md5):
                raise ValueError(f"{local} does not have the published MD5 {md5}; replace it")
            found[key] = local
            continue
        cached = cache / "fashion-mnist" / name
        if _verified(cached, md5):
            found[key] = cached
            continue
        if not download:
            raise FileNotFoundError(f"{name} is neither in the data folder nor in {cache}")
        errors = []
        for base in base_urls:
            try:
                found[key] = fetch(base + name, cached, md5, "md5", progress=progress)
                break
            except (OSError, ValueError) as err:
                errors.append(f"{base}: {err}")
        else:
            raise FileNotFoundError(f"could not download {name} ({'; '.join(errors)})")
    return found


def load_fashion_mnist(
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    download: bool = True,
    fallback: bool = False,
    base_urls: tuple[str, ...] = MIRRORS,
    progress: TextIO | None = sys.stderr,
) -> ImageData:
    """Fashion-MNIST's 60,000 training and 10,000 test images, verified by MD5 and parsed.

    Raises FileNotFoundError (one line saying what was tried) when the files cannot be had and
    ``fallback`` is False; ValueError for a file that is present but corrupt.
    """
    cache = default_cache_dir(cache_dir)
    try:
        paths = _locate(data_dir, cache, download, base_urls, progress)
    except FileNotFoundError as err:
        if not fallback:
            raise FileNotFoundError(
                f"Fashion-MNIST unavailable: {err}. Pass data_dir= (or set TRAINLAB_DATA_DIR), "
                "allow download=True on a connected machine, or allow fallback=True"
            ) from None
        if progress is not None:
            progress.write(
                f"trainlab: Fashion-MNIST unavailable ({err}); using the fallback "
                "scikit-learn digits (8×8 resized to 28×28) instead\n"
            )
        return digits_fallback(reason=str(err))
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
    return ImageData(
        data.train_images[:n_train],
        data.train_labels[:n_train],
        data.test_images[:n_test],
        data.test_labels[:n_test],
        data.classes,
        f"{data.source}, first {n_train} train / {n_test} test",
    )


def digits_fallback(reason: str = "", size: int = 28, test_fraction: float = 0.2) -> ImageData:
    """scikit-learn's bundled 1,797 8×8 handwritten digits (a real data set that needs no
    network), scaled to uint8 and resized to ``size``×``size``; a fixed 80/20 split."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise FileNotFoundError(
            f"no data: {reason}; and the fallback needs scikit-learn (pip install scikit-learn)"
        ) from None
    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16  # (1797, 1, 8, 8)
    x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    images = (x.clamp(0, 1) * 255).round().to(torch.uint8)
    labels = torch.tensor(digits.target, dtype=torch.long)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
    n_test = int(len(labels) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return ImageData(
        images[train],
        labels[train],
        images[test],
        labels[test],
        tuple(str(d) for d in range(10)),
        f"FALLBACK: scikit-learn digits 8×8→{size}×{size} ({reason})",
    )
