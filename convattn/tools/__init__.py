"""The course's tooling, for instructors and maintainers: the benchmark's command line
(``python -m convattn.tools.bench``), the environment check (``python -m convattn.tools.doctor``), the
coursework tooling (student edition, grader, selftest) and the experiment sweeps. A learner never needs to
read it, and ``import convattn`` never imports it: its dependencies are declared apart, in the ``tools`` and
``coursework`` extras of ``pyproject.toml``, and each module here is run or imported by name.
"""
