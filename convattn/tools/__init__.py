"""Command-line tools of the course (long sweeps, benchmarks): not imported by the chapters."""
