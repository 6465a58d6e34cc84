"""Tooling for instructors and maintainers (coursework, grading); never imported by ``import convattn``."""
