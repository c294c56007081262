"""Code generated from a plan: step code, the exported script, compiled kernels and their cache."""
