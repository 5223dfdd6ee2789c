"""Background work: the scheduler process and the jobs it runs (see jobs/registry.py)."""
