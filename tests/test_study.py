"""The study runner end to end: study validation, a tiny 2-variant study through papermill (table + figures), a re-run
that skips, a failing run recorded while the other completes (two jobs in parallel), and the committed toy table."""
import json, shutil
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _study(tmp, name, variants, data_dir, extra_overrides=()):
    from uar_nb.study import SMOKE_OVERRIDES
    over = '\n'.join(f'  - {o}' for o in [*SMOKE_OVERRIDES, *extra_overrides])
    p = tmp / f'{name}.yaml'
    p.write_text(f'name: {name}\ndataset: toy\ndata_dir: {data_dir}\npreset: toy\nvariants: {variants}\nseeds: [0]\n'
                 f'device: cpu\noverrides:\n{over}\n')
    return p


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    from uar_nb.study import smoke_data
    return smoke_data(tmp_path_factory.mktemp('data') / 'toy')


@pytest.mark.parametrize('text,message', [
    ('preset: toy\nvariants: [UAR]\nseeds: [0]\ndataset: toy\ndata_dir: d\nsedes: [1]\n', "unknown key 'sedes'; valid keys: name"),
    ('preset: toy\nvariants: [UAR, g]\nseeds: [0]\ndataset: toy\ndata_dir: d\n', "unknown variant 'g'; valid variants: BASE, a, b"),
    ('preset: tiny\nvariants: [UAR]\nseeds: [0]\ndataset: toy\ndata_dir: d\n', "unknown preset 'tiny'; valid presets:"),
    ('preset: toy\nvariants: [UAR]\nseeds: [0]\ndataset: iu\ndata_dir: d\n', "unknown dataset 'iu'; valid datasets: toy, iu_xray"),
    ('preset: toy\nvariants: [UAR]\nseeds: [0]\ndataset: toy\n', "missing key 'data_dir'"),
    ('preset: toy\nvariants: [UAR]\nseeds: [0]\ndataset: toy\ndata_dir: d\noverrides: {model.dmodel: 3}\n', "variant 'UAR': unknown key model.'dmodel'"),
])
def test_study_validation(tmp_path, text, message):
    from uar_nb.study import load_study, StudyError
    (tmp_path / 's.yaml').write_text(text)
    with pytest.raises(StudyError, match=None) as e: load_study(tmp_path / 's.yaml')
    assert message in str(e.value), str(e.value)


def test_shipped_studies_load():
    from uar_nb.study import load_study
    toy = load_study(ROOT / 'studies' / 'toy.yaml')
    assert {'BASE', 'a', 'e', 'f', 'UAR'} <= set(toy.variants) and len(toy.seeds) >= 2
    for f in ['iu_xray_table2', 'iu_xray_table3', 'iu_xray_table4', 'mimic_cxr']: load_study(ROOT / 'studies' / f'{f}.yaml')


def test_missing_data_is_a_clear_error(tmp_path):
    from uar_nb.study import run_study
    with pytest.raises(FileNotFoundError, match='uar toy --out'):
        run_study(_study(tmp_path, 'nodata', '[UAR]', tmp_path / 'nowhere'), results_dir=tmp_path / 'results', quiet=True)


def test_results_never_under_nbs(toy, tmp_path):
    from uar_nb.study import run_study
    with pytest.raises(ValueError, match='must not land under nbs/'):
        run_study(_study(tmp_path, 'x', '[UAR]', toy), results_dir=ROOT / 'nbs' / '_results', quiet=True)
    assert not (ROOT / 'nbs' / '_results').exists()


def test_tiny_study_end_to_end_then_skips(toy, tmp_path):
    from uar_nb.study import run_study
    study, results = _study(tmp_path, 'tiny', '[e, UAR]', toy), tmp_path / 'results'
    s = run_study(study, jobs=1, results_dir=results, quiet=True)
    assert (s['done'], s['skipped'], s['failed']) == (2, 0, 0), s
    sd = results / 'tiny'
    for run in ['e-s0', 'UAR-s0']:
        assert (sd / 'runs' / run / 'train.ipynb').exists() and (sd / 'runs' / run / 'run' / 'metrics.json').exists()
    assert s['analyses']['ablation_table']['status'] == 'done', s['analyses']
    assert s['analyses']['alignment_figures']['status'] == 'done', s['analyses']
    md = (sd / 'table.md').read_text()
    assert '(e) +LSU +CRA +L_global' in md and 'UAR' in md
    names = {p.stem for p in (sd / 'figures').glob('*.png')}
    assert names == {'attention', 'retrieval', 'similarity', 'basis_gram', 'method'}, names
    assert json.loads((sd / 'summary.json').read_text())['done'] == 2
    assert not list((ROOT / 'nbs').rglob('*-s0*')), 'executed notebooks must never land under nbs/'

    again = run_study(study, jobs=1, results_dir=results, quiet=True)
    assert (again['done'], again['skipped'], again['failed']) == (0, 2, 0), again


def test_failed_run_is_recorded_and_others_complete(toy, tmp_path):
    "An empty basis only breaks variants that build CRA: UAR fails inside training, BASE completes (2 jobs)."
    from uar_nb.study import run_study, load_study, StudyError
    bogus = _study(tmp_path, 'bogus', '[BASE, UAR]', toy, ['model.basis_kind=bogus'])
    with pytest.raises(StudyError, match="model.basis_kind='bogus' is not a valid value"): load_study(bogus)  # before any run
    study, results = _study(tmp_path, 'broken', '[BASE, UAR]', toy, ['model.basis_size=0']), tmp_path / 'results'
    s = run_study(study, jobs=2, results_dir=results, quiet=True)
    status = {r['run']: r['status'] for r in s['runs']}
    assert status == {'BASE-s0': 'done', 'UAR-s0': 'failed'}, s['runs']
    failed = next(r for r in s['runs'] if r['status'] == 'failed')
    assert 'n >= 1' in failed['error'], failed
    nb = json.loads(Path(failed['notebook']).read_text())   # the executed notebook shows the error
    assert any(o.get('output_type') == 'error' for c in nb['cells'] for o in c.get('outputs', []))
    assert (results / 'broken' / 'table.md').exists()          # the table is built from what completed


def test_committed_toy_table_reproduces(tmp_path):
    "Re-aggregating the committed run folders of results/toy gives exactly the committed table."
    committed = ROOT / 'results' / 'toy'
    if not (committed / 'table.csv').exists():
        pytest.skip('results/toy/table.csv is absent: run `make study` (and commit results/toy) to check it')
    from uar_nb.study import ablation_table
    copy = tmp_path / 'toy'
    for f in committed.glob('runs/*/run/*.json*'):   # metrics.json, run.json, test_reports.jsonl (distinct reports)
        dst = copy / f.relative_to(committed); dst.parent.mkdir(parents=True, exist_ok=True); shutil.copy(f, dst)
    assert list(copy.glob('runs/*/run/metrics.json')), 'results/toy/runs/*/run/metrics.json are not committed'
    ablation_table(copy)
    assert (copy / 'table.csv').read_text() == (committed / 'table.csv').read_text()
    assert (copy / 'table.md').read_text() == (committed / 'table.md').read_text()
    assert (copy / 'summary.md').read_text() == (committed / 'summary.md').read_text()
