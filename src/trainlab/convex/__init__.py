"""Convex optimization: convexity checks, projections, constrained minimization."""

from trainlab.convex.constrained import (
    ConstrainedResult,
    augmented_lagrangian,
    penalty_method,
    project_parameters,
    projected_gradient_descent,
)
from trainlab.convex.convexity import (
    ConvexityReport,
    CriticalPoint,
    Violation,
    check_convex_function,
    check_convex_set,
    classify_critical_point,
    sample_box,
    sublevel_set_grid,
    sublevel_set_samples,
)
from trainlab.convex.projections import (
    project_affine,
    project_box,
    project_halfspace,
    project_hyperplane,
    project_l1_ball,
    project_l2_ball,
    project_linf_ball,
    project_simplex,
)

__all__ = [
    "ConstrainedResult",
    "ConvexityReport",
    "CriticalPoint",
    "Violation",
    "augmented_lagrangian",
    "check_convex_function",
    "check_convex_set",
    "classify_critical_point",
    "penalty_method",
    "project_affine",
    "project_box",
    "project_halfspace",
    "project_hyperplane",
    "project_l1_ball",
    "project_l2_ball",
    "project_linf_ball",
    "project_parameters",
    "project_simplex",
    "projected_gradient_descent",
    "sample_box",
    "sublevel_set_grid",
    "sublevel_set_samples",
]
