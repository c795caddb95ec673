"""What a reproduction runs with (:class:`Settings`: profile, edition, seeds, data, device) and
what its experiments share while they run (:class:`Context`: the data sets, loaded once; the
folder where training runs keep their checkpoints, so an interrupted section resumes mid-run;
the progress stream; the data sets used, for the report; the seconds its trainings took, by
kind of network, for the run-time prediction)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import torch
from torch import nn

from trainlab.data.airfoil import RegressionData, load_airfoil
from trainlab.data.fashion_mnist import ImageData, load_fashion_mnist
from trainlab.experiments.catalog import DEFAULT_EDITION, Edition, Profile
from trainlab.experiments.eta import kind_of
from trainlab.train.loop import EpochStats, fit

__all__ = ["SEEDS", "Context", "Settings"]

# Seeds of the cheap stochastic experiments (airfoil runs, SGD trajectories) per profile.
SEEDS = {"smoke": 3, "quick": 20, "book": 20}


@dataclass(frozen=True)
class Settings:
    profile: Profile = "quick"
    edition: Edition = DEFAULT_EDITION
    seed: int = 0
    data_dir: Path | None = None
    device: str = "cpu"
    allow_fallback: bool = True
    download: bool = True

    @property
    def seeds(self) -> tuple[int, ...]:
        """The seeds the cheap stochastic experiments run over: seed, seed + 1, …"""
        return tuple(range(self.seed, self.seed + SEEDS[self.profile]))

    def key(self) -> dict[str, Any]:
        """Everything a cached result depends on (two runs share a cache only if these agree)."""
        return {
            "profile": self.profile,
            "edition": self.edition,
            "seed": self.seed,
            "device": self.device,
            "data_dir": str(self.data_dir) if self.data_dir else None,
            "allow_fallback": self.allow_fallback,
        }


@dataclass
class Context:
    """The shared state of one section's run."""

    settings: Settings
    checkpoints: Path | None = None
    progress: TextIO | None = sys.stderr
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    training_seconds: dict[str, float] = field(default_factory=lambda: {"conv": 0.0, "small": 0.0})
    _images: ImageData | None = None
    _airfoil: RegressionData | None = None

    def _note(self, data) -> None:
        self.datasets[data.name] = {
            "name": data.name,
            "fallback": data.fallback,
            "source": data.source,
        }

    def images(self) -> ImageData:
        if self._images is None:
            s = self.settings
            self._images = load_fashion_mnist(
                s.data_dir, download=s.download, fallback=s.allow_fallback, progress=self.progress
            )
            self._note(self._images)
        return self._images

    def airfoil(self) -> RegressionData:
        if self._airfoil is None:
            s = self.settings
            self._airfoil = load_airfoil(
                s.data_dir, download=s.download, fallback=s.allow_fallback, progress=self.progress
            )
            self._note(self._airfoil)
        return self._airfoil

    @property
    def comparable(self) -> bool:
        """Whether numbers of this run may be held against the book's: not on stand-in data,
        not in the smoke profile."""
        return self.settings.profile != "smoke" and not any(
            d["fallback"] for d in self.datasets.values()
        )

    def train(
        self,
        name: str,
        label: str,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        data: ImageData,
        epochs: int,
        batch_size: int = 256,
        resize: int | None = None,
    ) -> list[EpochStats]:
        """``fit`` with the settings' seed and device, checkpointing every epoch under this
        context's folder (``name``.safetensors) and resuming from it when present."""
        checkpoint = self.checkpoints / name if self.checkpoints is not None else None
        s = self.settings
        torch.manual_seed(s.seed)
        start = time.perf_counter()
        try:
            return fit(
                model,
                data,
                optimizer,
                epochs,
                batch_size,
                seed=s.seed,
                resize=resize,
                device=s.device,
                checkpoint=checkpoint,
                resume="if_any" if checkpoint is not None else False,
                config={"run": name, "data": data.source},
                log=None,
                progress=self.progress,
                label=label,
            )
        finally:
            self.training_seconds[kind_of(model)] += time.perf_counter() - start
