"""Every notebook in nbs/ is a test: its cells run top to bottom (nbdev_test semantics, one pytest item each).

Cells flagged `#| slow` or `#| gpu` are skipped unless UAR_TEST_FLAGS names them (e.g. UAR_TEST_FLAGS="slow").
"""
import os
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / 'nbs').rglob('*.ipynb')
                   if not any(part.startswith(('_', '.')) for part in p.relative_to(ROOT / 'nbs').parts))


@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[str(p.relative_to(ROOT / 'nbs')) for p in NOTEBOOKS])
def test_notebook(nb):
    from nbdev.test import test_nb
    flags = ['slow', 'gpu']
    forced = os.environ.get('UAR_TEST_FLAGS', '').split()
    ok, secs = test_nb(nb, skip_flags=flags, force_flags=forced, showerr=True)
    assert ok, f'{nb.name} failed (traceback above); open it in Jupyter and run all cells to see the failing cell'
