"""Issue 25's rule, one idea per cell: an export cell of a notebook in nbs/ has at most MAX_LINES lines and at most
MAX_DEFS top-level definitions (functions or classes). A longer unit is split into cells with prose and an example
between them, so that a reader meets each definition next to its explanation and its test."""
import ast, json, re, sys
from pathlib import Path

NBS = Path(__file__).resolve().parents[1] / 'nbs'
MAX_LINES, MAX_DEFS = 45, 2


def export_cells(nb: Path):
    "(first definition's name, lines, top-level definitions) of each `#| export` cell of `nb`."
    for cell in json.loads(nb.read_text())['cells']:
        src = ''.join(cell['source'])
        if cell['cell_type'] != 'code' or not re.search(r'^#\|\s*export\s*$', src, re.M): continue
        defs = [n.name for n in ast.parse(src).body if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))]
        yield (defs[0] if defs else '<no definition>'), len(src.splitlines()), len(defs)


def cells_over_rule() -> dict:
    "(notebook, first definition) -> (lines, definitions) for every export cell over the rule."
    return {(nb.name, name): (n, d) for nb in sorted(NBS.glob('*.ipynb'))
            for name, n, d in export_cells(nb) if n > MAX_LINES or d > MAX_DEFS}


def test_no_export_cell_breaks_the_rule():
    problems = [f'{nb}: the export cell starting with `{name}` has {n} lines and {d} definitions (at most {MAX_LINES} '
                f'and {MAX_DEFS}): split it, with prose and an example between the parts'
                for (nb, name), (n, d) in cells_over_rule().items()]
    assert not problems, '\n'.join(problems)


def test_the_rule_catches_a_long_cell(tmp_path, monkeypatch):
    "The checker itself: a 3-definition cell and a 46-line cell are caught, a 2-definition one is not."
    cell = lambda src: {'cell_type': 'code', 'source': src, 'metadata': {}, 'outputs': [], 'execution_count': None}
    long = '#| export\ndef f():\n' + '    x = 1\n' * 44
    nb = {'cells': [cell('#| export\ndef a(): pass\ndef b(): pass\ndef c(): pass'), cell('#| export\ndef d(): pass\nclass E: pass'),
                    cell(long), cell('print(1)\n' * 60)], 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}
    (tmp_path / 'x.ipynb').write_text(json.dumps(nb))
    monkeypatch.setattr(sys.modules[__name__], 'NBS', tmp_path)
    assert cells_over_rule() == {('x.ipynb', 'a'): (4, 3), ('x.ipynb', 'f'): (46, 1)}
