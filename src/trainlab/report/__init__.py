"""The report of ``trainlab reproduce``: cached per-section results, results.json, index.html."""
