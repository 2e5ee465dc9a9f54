"""Cut every exercise solution out of a chapter's MyST source: the student edition's source text.

A solution is a colon fence ``:::{solution} <label>`` ... ``:::`` (sphinx-exercise). The student
edition (``hide_solutions: true``) builds from the text this module returns, so no solution reaches
its pages, its ``_sources``, its executed notebooks or its search index. The test of the student
edition uses :func:`solution_blocks` to know what must not be found anywhere in the built tree.

Pure text processing: no Sphinx import, so the tests can use it directly.
"""

import re

_OPEN = re.compile(r"^(?P<fence>:{3,})\{solution(?:-start)?\}")
_BACKTICKS = re.compile(r"^(?P<fence>`{3,}|~{3,})")


def _split(text):
    """Yield ``(is_solution, lines)`` runs of the text, in order (lines keep their ends)."""
    lines = text.splitlines(keepends=True)
    i, plain = 0, []
    while i < len(lines):
        m = _OPEN.match(lines[i])
        if not m:
            plain.append(lines[i])
            i += 1
            continue
        if plain:
            yield False, plain
            plain = []
        close, block, code = m["fence"], [lines[i]], None
        i += 1
        while i < len(lines):
            line = lines[i]
            block.append(line)
            i += 1
            if code is not None:  # inside a code fence: a ::: line here is code, not the end
                if line.strip() == code:
                    code = None
                continue
            b = _BACKTICKS.match(line)
            if b:
                code = b["fence"]
            elif line.rstrip() == close:
                break
        else:
            raise ValueError(f"unterminated solution block starting {block[0].strip()!r}")
        yield True, block
    if plain:
        yield False, plain


def strip_solutions(text):
    """Return the text with every ``{solution}`` block removed (a blank line left in its place)."""
    return "".join("\n" if is_sol else "".join(lines) for is_sol, lines in _split(text))


def solution_blocks(text):
    """Return the body of every ``{solution}`` block (its lines between the fences), in order."""
    out = []
    for is_sol, lines in _split(text):
        if is_sol:
            body = [ln for ln in lines[1:-1] if not ln.lstrip().startswith(":class:")]
            out.append("".join(body).strip())
    return out
