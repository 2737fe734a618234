"""Benchmarks of NSRM (run them as scripts: python benchmarks/...)."""
