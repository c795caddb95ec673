"""trainlab's own module behaviour: the book convention, implementation choice, modes, errors.
(Equality with torch.nn.BatchNorm* is in test_batchnorm_parity.py.)"""

from __future__ import annotations

import pytest
import torch

from trainlab.nn import BatchNorm, BatchNorm1d, BatchNorm2d, BatchNorm3d

IMPLS = ["fast", "reference", "native"]


def test_book_convention_reproduces_the_textbook_update():
    """moving = 0.9·moving + 0.1·batch, with the *biased* batch variance, as the book's code."""
    bn = BatchNorm2d(2, momentum=0.9, convention="book")
    moving_mean, moving_var = (
        torch.zeros(2, dtype=torch.float64),
        torch.ones(2, dtype=torch.float64),
    )
    for _ in range(3):
        x = torch.randn(4, 2, 3, 3, dtype=torch.float64) * 2 + 1
        bn(x.float())
        batch_mean = x.mean(dim=(0, 2, 3))
        batch_var = ((x - batch_mean.view(1, 2, 1, 1)) ** 2).mean(dim=(0, 2, 3))
        moving_mean = 0.9 * moving_mean + (1.0 - 0.9) * batch_mean
        moving_var = 0.9 * moving_var + (1.0 - 0.9) * batch_var
    torch.testing.assert_close(bn.running_mean.double(), moving_mean, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(bn.running_var.double(), moving_var, rtol=1e-6, atol=1e-7)
    assert "convention='book'" in repr(bn)


@pytest.mark.parametrize("impl", ["fast", "reference"])
def test_book_and_torch_conventions_differ_only_in_the_running_variance(impl):
    x = torch.randn(5, 3)
    book = BatchNorm1d(3, momentum=0.9, convention="book", impl=impl)
    ours = BatchNorm1d(3, momentum=0.1, impl=impl)
    torch.testing.assert_close(book(x), ours(x))
    torch.testing.assert_close(book.running_mean, ours.running_mean)
    # unbiased = biased · m/(m−1) in the new-batch term: 0.9 + 0.1·v·5/4 vs 0.9 + 0.1·v
    torch.testing.assert_close(
        (ours.running_var - 0.9) / (book.running_var - 0.9), torch.full((3,), 5 / 4)
    )


@pytest.mark.parametrize("impl", IMPLS)
def test_every_implementation_gives_the_same_module(impl):
    torch.manual_seed(1)
    x = torch.randn(6, 4, 5, 5, dtype=torch.float64, requires_grad=True)
    base = BatchNorm2d(4, dtype=torch.float64)
    other = BatchNorm2d(4, dtype=torch.float64, impl=impl)
    with torch.no_grad():
        base.weight.uniform_(0.5, 2)
        base.bias.normal_()
    other.load_state_dict(base.state_dict())
    for mode in ("train", "eval"):
        getattr(base, mode)()
        getattr(other, mode)()
        y1, y2 = base(x), other(x)
        g1 = torch.autograd.grad(y1.square().sum(), (x, base.weight))
        g2 = torch.autograd.grad(y2.square().sum(), (x, other.weight))
        torch.testing.assert_close(y1, y2)
        torch.testing.assert_close(g1, g2)
    assert base.state_dict().keys() == other.state_dict().keys()
    for key, value in base.state_dict().items():
        torch.testing.assert_close(value, other.state_dict()[key])


def test_implementation_can_be_switched_on_a_live_module():
    bn = BatchNorm1d(3)
    bn.impl = "reference"
    assert bn(torch.randn(4, 3)).grad_fn.name() != "_BatchNormFunctionBackward"
    bn.impl = "fast"
    assert bn(torch.randn(4, 3)).grad_fn.name() == "_BatchNormFunctionBackward"
    bn.impl = "cuda-magic"
    with pytest.raises(ValueError, match="impl must be 'fast', 'reference' or 'native'"):
        bn(torch.randn(4, 3))


def test_native_kernel_cannot_follow_the_book_convention():
    with pytest.raises(ValueError, match=r"impl='native'.*convention='book'"):
        BatchNorm1d(3, convention="book", impl="native")


def test_mode_follows_module_training_not_grad_mode():
    bn = BatchNorm1d(2)
    x = torch.randn(8, 2) * 3 + 4
    with torch.no_grad():
        y = bn(x)  # training mode under no_grad still uses and records batch statistics
    assert bn.num_batches_tracked.item() == 1
    torch.testing.assert_close(y.mean(0), torch.zeros(2), atol=1e-5, rtol=0)
    bn.eval()
    before = bn.running_mean.clone()
    y = bn(x.requires_grad_())  # eval mode with grad enabled uses the running statistics
    assert bn.num_batches_tracked.item() == 1
    torch.testing.assert_close(bn.running_mean, before)
    expected = (x - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps)
    torch.testing.assert_close(y, expected)


def test_cumulative_average_with_momentum_none_equals_mean_of_batch_statistics():
    bn = BatchNorm(3, momentum=None)
    batches = [torch.randn(5, 3, 2) * (i + 1) for i in range(4)]
    for x in batches:
        bn(x)
    means = torch.stack([x.mean(dim=(0, 2)) for x in batches])
    variances = torch.stack([x.var(dim=(0, 2), unbiased=True) for x in batches])
    torch.testing.assert_close(bn.running_mean, means.mean(0))
    torch.testing.assert_close(bn.running_var, variances.mean(0))


def test_generic_module_accepts_any_rank_from_two():
    bn = BatchNorm(2)
    for shape in [(4, 2), (4, 2, 3), (4, 2, 3, 3), (2, 2, 2, 2, 2), (2, 2, 1, 2, 1, 2)]:
        assert bn(torch.randn(shape)).shape == shape
    with pytest.raises(ValueError, match=r"expected at least 2D input \(got 1D input\)"):
        bn(torch.randn(4))


def test_a_state_dict_with_the_book_convention_loads_into_torch():
    ours = BatchNorm2d(3, momentum=0.9, convention="book")
    ours(torch.randn(4, 3, 2, 2))
    theirs = torch.nn.BatchNorm2d(3)
    theirs.load_state_dict(ours.state_dict())
    ours.eval()
    theirs.eval()
    x = torch.randn(2, 3, 2, 2)
    torch.testing.assert_close(ours(x), theirs(x))


class TestBadInput:
    @pytest.mark.parametrize(
        "cls, shape, message",
        [
            (BatchNorm1d, (2, 3, 4, 5), r"expected 2D or 3D input \(got 4D input\)"),
            (BatchNorm2d, (2, 3, 4), r"expected 4D input \(got 3D input\)"),
            (BatchNorm3d, (2, 3, 4, 5), r"expected 5D input \(got 4D input\)"),
        ],
    )
    def test_wrong_rank(self, cls, shape, message):
        with pytest.raises(ValueError, match=message):
            cls(3)(torch.randn(shape))

    @pytest.mark.parametrize("affine, track", [(True, True), (False, False)])
    def test_wrong_channel_count_names_both_counts(self, affine, track):
        bn = BatchNorm2d(3, affine=affine, track_running_stats=track)
        with pytest.raises(ValueError, match=r"expected input with 3 channels.*num_features=5"):
            bn(torch.randn(2, 5, 4, 4))

    @pytest.mark.parametrize("impl", IMPLS)
    def test_one_value_per_channel_in_training(self, impl):
        bn = BatchNorm1d(3, impl=impl)
        message = (
            r"Expected more than 1 value per channel when training, got input size "
            r"torch\.Size\(\[1, 3\]\)"
        )
        with pytest.raises(ValueError, match=message):
            bn(torch.randn(1, 3))
        assert bn.num_batches_tracked.item() == 0  # a rejected batch leaves no trace
        bn.eval()
        assert bn(torch.randn(1, 3)).shape == (1, 3)

    @pytest.mark.parametrize("impl", IMPLS)
    @pytest.mark.parametrize("eps", [0, -1e-5])
    def test_eps_must_be_positive_in_training(self, impl, eps):
        bn = BatchNorm1d(3, eps=eps, impl=impl)  # as torch, ε is checked where it is used
        with pytest.raises(ValueError, match="eps must be positive during training"):
            bn(torch.randn(4, 3))
        assert bn.num_batches_tracked.item() == 0

    @pytest.mark.parametrize("impl", IMPLS)
    def test_eps_zero_predicts_as_torch_and_negative_eps_does_not(self, impl):
        ours, theirs = BatchNorm1d(3, eps=0.0, impl=impl), torch.nn.BatchNorm1d(3, eps=0.0)
        variance = torch.rand(3) + 0.5
        for bn in (ours, theirs):
            bn.running_var.copy_(variance)
            bn.eval()
        x = torch.randn(4, 3)
        torch.testing.assert_close(ours(x), theirs(x))
        ours.eps = -1e-5
        with pytest.raises(ValueError, match="eps must be non-negative"):
            ours(x)

    @pytest.mark.parametrize("impl", IMPLS)
    @pytest.mark.parametrize("training", [True, False])
    def test_nan_eps_is_refused(self, impl, training):
        bn = BatchNorm1d(3, eps=float("nan"), impl=impl).train(training)
        with pytest.raises(ValueError, match="eps must be a finite number"):
            bn(torch.randn(4, 3))

    @pytest.mark.parametrize("momentum", [-0.1, 1.5, float("nan")])
    def test_momentum_outside_unit_interval(self, momentum):
        with pytest.raises(ValueError, match=r"momentum must be None .* or lie in \[0, 1\]"):
            BatchNorm1d(3, momentum=momentum)

    @pytest.mark.parametrize("num_features", [0, -2, 2.5, True])
    def test_num_features(self, num_features):
        with pytest.raises(ValueError, match="num_features must be a positive int"):
            BatchNorm1d(num_features)

    def test_unknown_convention(self):
        with pytest.raises(ValueError, match="convention must be 'torch' or 'book'"):
            BatchNorm1d(3, convention="d2l")

    @pytest.mark.parametrize("impl", ["fast", "reference"])
    @pytest.mark.parametrize("dtype", [torch.int64, torch.uint8, torch.bool])
    def test_integer_input(self, impl, dtype):
        with pytest.raises(TypeError, match=r"floating-point input, got dtype .*x\.float\(\)"):
            BatchNorm1d(3, impl=impl)(torch.ones(4, 3, dtype=dtype))


@pytest.mark.parametrize("impl", ["fast", "reference"])
def test_backward_of_a_prediction_survives_a_later_training_step(impl):
    bn = BatchNorm1d(3, impl=impl)
    bn.eval()
    x = torch.randn(4, 3, requires_grad=True)
    y = bn(x)
    bn.train()
    bn(torch.randn(8, 3))  # updates the running statistics in place
    y.sum().backward()  # still differentiates the prediction that used the old ones
    assert x.grad is not None and torch.isfinite(x.grad).all()


@pytest.mark.parametrize("impl", IMPLS)
def test_a_model_trained_through_an_empty_batch_equals_one_trained_without_it(impl):
    """torch's zero_batch inputs: an empty batch leaves statistics and weights as they were
    (only the batch counter moves, as torch's does)."""
    torch.manual_seed(0)
    batches = [torch.randn(8, 2, 5, 5) * 2 + 1 for _ in range(3)]
    empty = torch.randn(0, 2, 5, 5)
    models = []
    for sequence in (batches, [batches[0], empty, batches[1], empty, batches[2]]):
        torch.manual_seed(1)
        model = torch.nn.Sequential(
            torch.nn.Conv2d(2, 4, 3), BatchNorm2d(4, impl=impl), torch.nn.ReLU(), torch.nn.Flatten()
        )
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)  # a zero gradient: no step
        for x in sequence:
            optimizer.zero_grad()
            model(x).square().sum().backward()  # a sum: the empty batch contributes nothing
            optimizer.step()
        models.append(model)
    plain, interrupted = (m.state_dict() for m in models)
    for key in plain:
        if key.endswith("num_batches_tracked"):
            assert int(interrupted[key]) == int(plain[key]) + 2
        else:
            assert torch.equal(plain[key], interrupted[key]), key


def test_repr_names_a_non_default_convention_and_implementation():
    text = repr(BatchNorm1d(3, momentum=0.9, convention="book", impl="reference"))
    assert text == (
        "BatchNorm1d(3, eps=1e-05, momentum=0.9, affine=True, bias=True, "
        "track_running_stats=True, convention='book', impl='reference')"
    )
    assert repr(BatchNorm1d(3, impl="native")).endswith("track_running_stats=True, impl='native')")


def test_loading_reports_unexpected_keys_and_shape_errors():
    bn = BatchNorm1d(2)
    state = {**bn.state_dict(), "extra": torch.zeros(1)}
    assert bn.load_state_dict(state, strict=False).unexpected_keys == ["extra"]
    with pytest.raises(RuntimeError, match="size mismatch for running_var"):
        bn.load_state_dict({**bn.state_dict(), "running_var": torch.ones(3)})


@pytest.mark.parametrize("impl", IMPLS)
def test_switching_tracking_off_after_construction_behaves_as_torch(impl):
    """torch's rule: with track_running_stats turned off on a built layer, training uses batch
    statistics and leaves the buffers alone; prediction still uses the buffers."""
    ours, theirs = BatchNorm1d(2, impl=impl), torch.nn.BatchNorm1d(2)
    with torch.no_grad():
        for m in (ours, theirs):
            m.running_mean.copy_(torch.tensor([0.5, -1.0]))
            m.running_var.copy_(torch.tensor([2.0, 0.25]))
            m.track_running_stats = False
    x = torch.randn(6, 2)
    torch.testing.assert_close(ours(x), theirs(x))
    torch.testing.assert_close(ours.running_mean, theirs.running_mean)
    ours.eval()
    theirs.eval()
    torch.testing.assert_close(ours(x), theirs(x))


def test_the_edge_values_of_the_arguments_are_accepted():
    BatchNorm1d(1)(torch.randn(4, 1))  # one channel
    for momentum in (0, 0.0, 1, 1.0):
        BatchNorm1d(2, momentum=momentum)(torch.randn(4, 2))


def test_argument_errors_say_what_is_expected():
    with pytest.raises(ValueError, match=r"^num_features must be a positive int \(the number of "):
        BatchNorm1d(0)
    with pytest.raises(ValueError, match=r"number of channels C\), got 0$"):
        BatchNorm1d(0)
    with pytest.raises(ValueError, match=r"^impl='native' \(PyTorch's kernel\) records the unbias"):
        BatchNorm1d(2, convention="book", impl="native")
    with pytest.raises(ValueError, match=r"use impl='fast' or impl='reference'$"):
        BatchNorm1d(2, convention="book", impl="native")


def test_the_batch_counter_starts_at_a_long_zero_on_the_layers_device():
    bn = BatchNorm1d(2)
    assert bn.num_batches_tracked.dtype == torch.long and bn.num_batches_tracked.item() == 0
    meta = BatchNorm1d(2, device="meta")  # built without memory, e.g. for lazy loading
    assert {b.device.type for b in meta.buffers()} == {"meta"}
    assert {p.device.type for p in meta.parameters()} == {"meta"}
