"""The library's imports point one way (docs/ARCHITECTURE.md): each module imports only modules of a lower layer, and
kit imports sit at the top of the module (the CLI excepted, see LAZY)."""
import ast
from pathlib import Path
import pytest

LIB = Path(__file__).resolve().parents[1] / 'uar_nb'
LAYERS = [('config', 'files', 'attention'), ('data', 'toydata', 'labeler'), ('lsu', 'cra', 'tir', 'decode', 'metrics', 'verdicts'), ('model',),
          ('train',), ('viz',), ('inference',), ('study', 'bench'), ('claims',), ('cli',)]
LAYER = {m: k for k, ms in enumerate(LAYERS) for m in ms}
LAZY = {'cli'}   # imports each subcommand's modules inside it: `uar label` starts without torch


def kit_imports(source: str, module: str) -> list[tuple[str, bool]]:
    "(imported kit module, in the module's head?) for every import of uar_nb's own modules in `source`."
    tree, out = ast.parse(source), []
    first_def = min((n.lineno for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))),
                    default=10 ** 9)
    top = {id(n) for n in tree.body if n.lineno < first_def}   # the module's head, before its first definition
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.ImportFrom):
            if node.level == 1: base = node.module
            elif node.module and (node.module == 'uar_nb' or node.module.startswith('uar_nb.')): base = node.module[7:] or None
            else: continue
            targets = [base.split('.')[0]] if base else [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name.split('.')[1] for a in node.names if a.name.startswith('uar_nb.')]
        out += [(t, id(node) in top) for t in targets if t != module]
    return out


def layering_problems(sources: dict[str, str]) -> list[str]:
    "Every upward or sideways import, cycle member, unplaced module and function-level kit import, named."
    problems = []
    for mod, src in sorted(sources.items()):
        if mod not in LAYER:
            problems.append(f'uar_nb/{mod}.py has no layer: add it to LAYERS in tests/test_layering.py and to docs/ARCHITECTURE.md')
            continue
        for target, at_top in kit_imports(src, mod):
            if target not in LAYER: continue
            if LAYER[target] >= LAYER[mod]:
                problems.append(f'{mod} (layer {LAYER[mod]}) imports {target} (layer {LAYER[target]}): an import must point to '
                                f'a lower layer; move the code it needs down, or into {mod}')
            elif not at_top and mod not in LAZY:
                problems.append(f'{mod} imports {target} inside a function or below its first definition: kit imports go at '
                                f'the top of the module')
    return problems


def library_sources() -> dict[str, str]:
    return {p.stem: p.read_text() for p in LIB.glob('*.py') if not p.stem.startswith('_')}


def test_imports_point_down_a_layer_at_the_top_of_each_module():
    assert layering_problems(library_sources()) == []


@pytest.mark.parametrize('mod, line, culprit', [
    ('lsu', 'def tokenizer_report():\n    from uar_nb.train import load_or_fit_image_tokenizer\n', 'lsu (layer 2) imports train (layer 4)'),
    ('train', 'def _train():\n    from uar_nb.inference import make_self_contained\n', 'train (layer 4) imports inference (layer 6)'),
    ('viz', 'from . import study\n', 'viz (layer 5) imports study (layer 7)'),
    ('metrics', 'from .lsu import probe_f1\n', 'metrics (layer 2) imports lsu (layer 2)'),
])
def test_the_check_names_the_cycles_it_was_written_for(mod, line, culprit):
    "The two import cycles of issue 26 (lsu <-> train, train <-> inference), an upward and a sideways import: each named."
    sources = library_sources()
    sources[mod] += '\n' + line
    problems = layering_problems(sources)
    assert len(problems) == 1 and problems[0].startswith(culprit), problems


def test_kit_imports_inside_functions_are_found():
    sources = library_sources()
    sources['model'] += '\ndef f():\n    from uar_nb.config import Config\n'
    assert layering_problems(sources) == ['model imports config inside a function or below its first definition: kit imports go '
                                          'at the top of the module']
    sources = library_sources(); sources['metrics'] += '\nfrom .labeler import label_reports\n'   # module level, mid-file
    assert layering_problems(sources)[0].startswith('metrics imports labeler inside a function or below its first definition')
    sources = library_sources(); sources['newmod'] = 'import numpy\n'
    assert 'uar_nb/newmod.py has no layer' in layering_problems(sources)[0]
