"""Many runs of one graph: k folds and parameter grids as Dask tasks, and their results."""
