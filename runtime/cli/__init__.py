"""The `gradhopper` command, a thin layer over the Python API."""
