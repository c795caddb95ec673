"""Ghost Batch Normalization and Batch Renormalization."""

from __future__ import annotations

import pytest
import torch

from trainlab._checks import ShapeMismatchError
from trainlab.nn import BatchNorm, BatchNorm2d, BatchRenorm, GhostBatchNorm, renorm_limits
from trainlab.nn.functional import batch_statistics

F64 = torch.float64


def _random_affine(*modules):
    """Give every module the same random γ, β and running statistics."""
    reference = modules[0]
    with torch.no_grad():
        reference.weight.uniform_(0.5, 2.0)
        reference.bias.normal_()
        reference.running_mean.normal_()
        reference.running_var.uniform_(0.5, 2.0)
    for m in modules[1:]:
        m.load_state_dict(reference.state_dict())


class TestGhostBatchNorm:
    @pytest.mark.parametrize("impl", ["fast", "reference", "native"])
    def test_training_normalizes_each_ghost_batch_with_its_own_statistics(self, impl):
        ghost = GhostBatchNorm(3, virtual_batch_size=4, dtype=F64, impl=impl)
        plain = torch.nn.BatchNorm2d(3, dtype=F64)
        _random_affine(ghost, plain)
        x = torch.randn(10, 3, 2, 2, dtype=F64, requires_grad=True)  # ghosts of 4, 4 and 2
        y = ghost(x)
        expected = torch.cat([plain(chunk) for chunk in x.split(4)])
        torch.testing.assert_close(y, expected)
        g = torch.randn_like(y)
        torch.testing.assert_close(
            torch.autograd.grad(y, (x, ghost.weight), g),
            torch.autograd.grad(expected, (x, plain.weight), g),
        )

    def test_running_statistics_average_the_ghost_statistics_once_per_step(self):
        ghost = GhostBatchNorm(2, virtual_batch_size=3, momentum=0.5, dtype=F64)
        x = torch.randn(9, 2, dtype=F64)
        ghost(x)
        chunks = x.split(3)
        mean = torch.stack([c.mean(0) for c in chunks]).mean(0)
        var = torch.stack([c.var(0, unbiased=True) for c in chunks]).mean(0)
        torch.testing.assert_close(ghost.running_mean, 0.5 * mean)
        torch.testing.assert_close(ghost.running_var, 0.5 + 0.5 * var)
        assert ghost.num_batches_tracked.item() == 1

    def test_one_ghost_batch_is_plain_batch_norm(self):
        ghost = GhostBatchNorm(3, virtual_batch_size=64)
        plain = BatchNorm2d(3)
        _random_affine(ghost, plain)
        x = torch.randn(16, 3, 4, 4)
        torch.testing.assert_close(ghost(x), plain(x))
        torch.testing.assert_close(ghost.running_var, plain.running_var)

    def test_prediction_mode_is_plain_batch_norm_independent_of_the_split(self):
        ghost = GhostBatchNorm(3, virtual_batch_size=2)
        plain = BatchNorm(3)
        _random_affine(ghost, plain)
        ghost.eval()
        plain.eval()
        x = torch.randn(8, 3, 5)
        torch.testing.assert_close(ghost(x), plain(x))
        torch.testing.assert_close(ghost(x)[:1], ghost(x[:1]))

    def test_a_remainder_ghost_with_one_value_per_channel_is_refused(self):
        with pytest.raises(ValueError, match="virtual_batch_size that leaves a remainder"):
            GhostBatchNorm(3, virtual_batch_size=4)(torch.randn(9, 3))

    @pytest.mark.parametrize("size", [0, -1, 2.0])
    def test_virtual_batch_size_must_be_a_positive_int(self, size):
        with pytest.raises(ValueError, match="virtual_batch_size must be a positive int"):
            GhostBatchNorm(3, virtual_batch_size=size)


class TestBatchRenorm:
    def test_with_r_max_1_and_d_max_0_it_is_plain_batch_norm(self):
        renorm = BatchRenorm(3, r_max=1.0, d_max=0.0, dtype=F64)
        plain = BatchNorm2d(3, dtype=F64)
        _random_affine(renorm, plain)
        for _ in range(2):
            x = torch.randn(6, 3, 4, 4, dtype=F64, requires_grad=True)
            y1, y2 = renorm(x), plain(x)
            torch.testing.assert_close(y1, y2)
            g = torch.randn_like(y1)
            torch.testing.assert_close(
                torch.autograd.grad(y1, (x, renorm.weight), g),
                torch.autograd.grad(y2, (x, plain.weight), g),
            )
        torch.testing.assert_close(renorm.running_mean, plain.running_mean)
        torch.testing.assert_close(renorm.running_var, plain.running_var)

    def test_training_output_and_gradient_treat_r_and_d_as_constants(self):
        renorm = BatchRenorm(2, r_max=1.5, d_max=0.5, dtype=F64)
        with torch.no_grad():
            renorm.running_mean.copy_(torch.tensor([0.3, -4.0]))
            renorm.running_var.copy_(torch.tensor([0.2, 9.0]))
            renorm.weight.copy_(torch.tensor([2.0, 0.5]))
        running_mean, running_var = renorm.running_mean.clone(), renorm.running_var.clone()
        x = torch.randn(16, 2, dtype=F64, requires_grad=True)
        y = renorm(x)

        mean, var = batch_statistics(x)
        sigma_b = torch.sqrt(var + renorm.eps)
        sigma = torch.sqrt(running_var + renorm.eps)
        r = (sigma_b / sigma).detach().clamp(1 / 1.5, 1.5)
        d = ((mean - running_mean) / sigma).detach().clamp(-0.5, 0.5)
        assert r[0] == 1.5 and r[1] == 1 / 1.5 and d[0] == -0.5 and d[1] == 0.5  # all clipped
        expected = renorm.weight * ((x - mean) / sigma_b * r + d) + renorm.bias
        torch.testing.assert_close(y, expected)
        g = torch.randn_like(y)
        torch.testing.assert_close(
            torch.autograd.grad(y, x, g), torch.autograd.grad(expected, x, g)
        )

    def test_prediction_mode_is_plain_batch_norm(self):
        renorm = BatchRenorm(3)
        plain = BatchNorm(3)
        _random_affine(renorm, plain)
        renorm.eval()
        plain.eval()
        x = torch.randn(4, 3, 2)
        torch.testing.assert_close(renorm(x), plain(x))

    def test_limits_ramp_like_the_paper(self):
        assert renorm_limits(0) == (1.0, 0.0)
        assert renorm_limits(5_000) == (1.0, 0.0)
        assert renorm_limits(22_500) == pytest.approx((2.0, 5.0 * 17_500 / 20_000))
        assert renorm_limits(25_000) == pytest.approx((1 + 2 * 20 / 35, 5.0))
        assert renorm_limits(40_000) == (3.0, 5.0)
        assert renorm_limits(10**6) == (3.0, 5.0)

    def test_a_limits_schedule_is_read_at_num_batches_tracked(self):
        renorm = BatchRenorm(2, limits=lambda step: (1.0 + step, 0.1 * step))
        for step in range(3):
            renorm(torch.randn(4, 2))
            assert (renorm.r_max, renorm.d_max) == (1.0 + step, pytest.approx(0.1 * step))

    def test_bad_limits_and_missing_running_statistics_are_refused(self):
        with pytest.raises(ValueError, match="r_max >= 1 and d_max >= 0"):
            BatchRenorm(2, r_max=0.5)(torch.randn(4, 2))
        with pytest.raises(ValueError, match="needs track_running_stats=True"):
            BatchRenorm(2, track_running_stats=False)


class TestGhostBatchNormConventions:
    def test_book_convention_records_the_mean_of_the_biased_ghost_variances(self):
        ghost = GhostBatchNorm(2, virtual_batch_size=3, momentum=0.9, convention="book", dtype=F64)
        x = torch.randn(9, 2, dtype=F64)
        ghost(x)
        chunks = x.split(3)
        mean = torch.stack([c.mean(0) for c in chunks]).mean(0)
        var = torch.stack([c.var(0, unbiased=False) for c in chunks]).mean(0)
        # the book's momentum weighs the old value: moving = 0.9·moving + 0.1·batch
        torch.testing.assert_close(ghost.running_mean, 0.1 * mean)
        torch.testing.assert_close(ghost.running_var, 0.9 + 0.1 * var)

    @pytest.mark.parametrize("impl", ["fast", "reference"])
    def test_eps_is_the_layers_own(self, impl):
        ghost = GhostBatchNorm(3, virtual_batch_size=4, eps=0.5, dtype=F64, impl=impl)
        plain = torch.nn.BatchNorm1d(3, eps=0.5, dtype=F64)
        x = torch.randn(8, 3, dtype=F64)
        torch.testing.assert_close(ghost(x), torch.cat([plain(c) for c in x.split(4)]))

    def test_the_default_ghost_batch_has_32_samples(self):
        ghost = GhostBatchNorm(2)
        assert ghost.virtual_batch_size == 32
        x = torch.randn(64, 2)
        plain = BatchNorm(2)
        torch.testing.assert_close(ghost(x), torch.cat([plain(c) for c in x.split(32)]))

    def test_a_ghost_batch_of_one_sample_is_allowed_for_spatial_input(self):
        ghost = GhostBatchNorm(2, virtual_batch_size=1)  # one image still has H·W values
        x = torch.randn(3, 2, 4, 4)
        plain = BatchNorm2d(2)
        torch.testing.assert_close(ghost(x), torch.cat([plain(c) for c in x.split(1)]))

    def test_the_refusal_names_the_batch_and_the_ghost_size(self):
        with pytest.raises(ValueError, match="batch of 9 split into virtual batches of 4"):
            GhostBatchNorm(3, virtual_batch_size=4)(torch.randn(9, 3))
        with pytest.raises(ValueError, match=r"leaves a remainder other than 1$"):
            GhostBatchNorm(3, virtual_batch_size=4)(torch.randn(9, 3))

    def test_an_empty_batch_is_counted_and_records_nothing(self):
        ghost = GhostBatchNorm(2, virtual_batch_size=4)
        y = ghost(torch.randn(0, 2))
        assert y.shape == (0, 2)
        assert ghost.num_batches_tracked.item() == 1
        torch.testing.assert_close(ghost.running_mean, torch.zeros(2))
        torch.testing.assert_close(ghost.running_var, torch.ones(2))

    def test_without_running_statistics_nothing_is_recorded_or_counted(self):
        ghost = GhostBatchNorm(2, virtual_batch_size=2, track_running_stats=False)
        x = torch.randn(4, 2)
        y = ghost(x)
        assert ghost.running_mean is None and ghost.num_batches_tracked is None
        torch.testing.assert_close(y, torch.cat([BatchNorm(2)(c) for c in x.split(2)]))


class TestBatchRenormConventions:
    def test_the_default_limits_are_the_papers(self):
        renorm = BatchRenorm(2)
        assert (renorm.r_max, renorm.d_max) == (3.0, 5.0)

    def test_book_convention_records_the_biased_batch_variance(self):
        renorm = BatchRenorm(2, momentum=0.9, convention="book", dtype=F64)
        x = torch.randn(8, 2, dtype=F64)
        renorm(x)
        torch.testing.assert_close(renorm.running_mean, 0.1 * x.mean(0))
        torch.testing.assert_close(renorm.running_var, 0.9 + 0.1 * x.var(0, unbiased=False))

    def test_torch_convention_records_the_unbiased_batch_variance(self):
        renorm = BatchRenorm(2, dtype=F64)
        x = torch.randn(8, 2, 3, dtype=F64)
        renorm(x)
        values = x.transpose(0, 1).reshape(2, -1)
        torch.testing.assert_close(renorm.running_var, 0.9 + 0.1 * values.var(1, unbiased=True))

    @pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
    def test_the_output_has_the_inputs_dtype(self, dtype):
        renorm = BatchRenorm(3)
        x = torch.randn(8, 3)
        y = renorm(x.to(dtype))
        assert y.dtype == dtype
        expected = BatchRenorm(3)(x.to(dtype).float())
        torch.testing.assert_close(y.float(), expected, atol=1e-2, rtol=1e-2)

    def test_an_empty_batch_behaves_as_torchs_batch_norm(self):
        renorm, plain = BatchRenorm(2), torch.nn.BatchNorm1d(2)
        x = torch.randn(0, 2, requires_grad=True)
        y, expected = renorm(x), plain(x)
        assert y.shape == expected.shape == (0, 2)
        (y.sum() + expected.sum()).backward()
        for ours, theirs in [(renorm.weight, plain.weight), (renorm.bias, plain.bias)]:
            torch.testing.assert_close(ours.grad, theirs.grad)  # zeros, not None
        assert renorm.num_batches_tracked.item() == plain.num_batches_tracked.item() == 1
        torch.testing.assert_close(renorm.running_var, plain.running_var)

    def test_one_value_per_channel_is_refused_as_torch_does(self):
        with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
            BatchRenorm(2)(torch.randn(1, 2))
        BatchRenorm(2)(torch.randn(2, 2))  # two values are enough

    def test_an_input_without_channels_is_a_shape_mismatch(self):
        with pytest.raises(ShapeMismatchError):
            BatchRenorm(2)(torch.randn(4, 0))

    def test_the_missing_running_statistics_refusal_explains_why(self):
        with pytest.raises(ValueError, match=r"^BatchRenorm corrects batch statistics towards"):
            BatchRenorm(2, track_running_stats=False)


class TestRenormLimitsEdges:
    def test_a_limit_reached_at_the_end_of_the_warmup_applies_right_after_it(self):
        assert renorm_limits(5_001, r_max_reached_at=5_000, d_max_reached_at=5_001) == (3.0, 5.0)

    def test_a_one_step_ramp_is_linear_over_that_step(self):
        r, d = renorm_limits(11, warmup_steps=10, r_max_reached_at=12, d_max_reached_at=11)
        assert (r, d) == (pytest.approx(2.0), 5.0)
