"""The old names of the lab commands; the lab machinery is the separate package ``labkit``.

The generator, grader and check helpers live in ``labkit``, apart
from the RNN library. These modules only keep the commands that students and the
README already use, and import nothing until run as a command:

- ``python -m rnnkit.labs.grade NOTEBOOK`` is ``python -m labkit.grade NOTEBOOK``;
- ``python -m rnnkit.labs.generate`` is ``python -m labkit.generate``.

Import from ``labkit`` in code and notebooks (``from labkit.checks import ...``).
"""
