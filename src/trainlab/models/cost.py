"""The cost of a grouped convolution, the book's argument for ResNeXt (d2l §8.6.5).

Splitting a k×k convolution from cᵢ to cₒ channels into g groups, each mapping cᵢ/g input
channels to cₒ/g output channels on its own, replaces one (cₒ, cᵢ, k, k) weight by g weights of
(cₒ/g, cᵢ/g, k, k): both the parameters and the work fall from O(cᵢ·cₒ) to
O(g·(cᵢ/g)·(cₒ/g)) = O(cᵢ·cₒ/g), g times less.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["ConvCost", "grouped_conv_cost"]


class ConvCost(NamedTuple):
    parameters: int  # weights (and biases) of the layer
    multiply_adds: int  # per example; FLOPs as torch's FlopCounterMode counts them are 2× this


def grouped_conv_cost(
    in_channels: int,
    out_channels: int,
    kernel_size: int | tuple[int, int],
    groups: int,
    height: int,
    width: int,
    *,
    bias: bool = True,
) -> ConvCost:
    """Parameters and multiply-adds of ``nn.Conv2d(in_channels, out_channels, kernel_size,
    groups=groups, bias=bias)`` producing a ``height``×``width`` output, for one example:

        parameters    = k_h·k_w·cᵢ·cₒ/g (+ cₒ with a bias),
        multiply_adds = k_h·k_w·cᵢ·cₒ/g · H·W,

    each output value being a dot product of cᵢ/g input channels with a k_h×k_w window. The
    bias additions are not counted, as in ``torch.utils.flop_counter``. ``height`` and ``width``
    are the output's size (the input's at stride 1 with padding (k − 1)/2).

    ``grouped_conv_cost(128, 128, 3, 32, 56, 56)`` (ResNeXt-50's first 3×3, no bias) has
    4,608 weights, 1/32 of the 147,456 of ``groups=1``:

    >>> grouped_conv_cost(128, 128, 3, 32, 56, 56, bias=False)
    ConvCost(parameters=4608, multiply_adds=14450688)
    >>> grouped_conv_cost(128, 128, 3, 1, 56, 56, bias=False).parameters
    147456
    """
    k_h, k_w = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sizes = {
        "in_channels": in_channels,
        "out_channels": out_channels,
        "kernel height": k_h,
        "kernel width": k_w,
        "groups": groups,
        "height": height,
        "width": width,
    }
    bad = {name: value for name, value in sizes.items() if value < 1}
    if bad:
        raise ValueError(f"sizes must be positive, got {bad}")
    if in_channels % groups or out_channels % groups:
        raise ValueError(
            f"groups={groups} must divide in_channels={in_channels} and "
            f"out_channels={out_channels}: each group maps in_channels/groups to "
            "out_channels/groups channels"
        )
    weights = k_h * k_w * (in_channels // groups) * out_channels
    return ConvCost(
        parameters=weights + (out_channels if bias else 0),
        multiply_adds=weights * height * width,
    )
