"""The course's coursework tooling, for instructors: the student edition of the chapters and the grader.

It is its own package beside ``convattn`` (the learner's package), with its own dependencies
(``coursework/pyproject.toml``) and tests (``coursework/tests``), and it uses only ``convattn``'s public API.
``python -m coursework --help`` lists its commands.
"""
