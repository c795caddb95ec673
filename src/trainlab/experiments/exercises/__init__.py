"""The end-of-section exercises of d2l-en for the unit's eight sections, one module per section,
each answered by a run, a numerical check or a short written answer (see
:class:`~trainlab.experiments.result.ExerciseSpec`)."""
