"""Every notebook in nbs/ is a test: its cells run top to bottom (nbdev_test semantics, one pytest item each).

Cells flagged `#| slow` or `#| gpu` are skipped unless UAR_TEST_FLAGS names them (e.g. UAR_TEST_FLAGS="slow").
The same run checks that a teaching notebook's saved outputs are current (tests/nb_outputs.py says what is
compared and what is ignored); `make outputs` refreshes them.
"""
import os
import pytest
from nb_outputs import NBS, all_notebooks, compare, execute, is_teaching, sizes

NOTEBOOKS = all_notebooks()


@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[str(p.relative_to(NBS)) for p in NOTEBOOKS])
def test_notebook(nb):
    forced = os.environ.get('UAR_TEST_FLAGS', '').split()
    executed, err = execute(nb, force_flags=forced)
    assert err is None, f'{nb.name} failed:\n{err}\nopen it in Jupyter and run all cells to see the failing cell'
    if is_teaching(nb) and not forced:   # saved outputs come from the default run (slow/gpu cells skipped)
        problems = compare(nb, executed)
        assert not problems, '\n\n'.join(problems)


def test_notebook_sizes():
    "Saved outputs stay small: each teaching notebook under 1 MB, nbs/ under 10 MB."
    assert not sizes(), '\n'.join(sizes())


def test_nbdev_clean_keeps_outputs():
    "nbdev_clean (make check-sync) must not strip the saved outputs."
    import configparser
    cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(NBS.parent / 'settings.ini')
    assert cfg['DEFAULT'].get('clear_all', 'False').strip().lower() in ('false', '0', 'no'), \
        'settings.ini: clear_all must be False, or nbdev_clean deletes the outputs saved by `make outputs`'
