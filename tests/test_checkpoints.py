"""The committed checkpoints (results/toy/runs/<V>-s<k>/run/checkpoints/best, loaded by the tour, 10_viz, 14_generate,
04_cra and 05_tir) belong to the committed run folders beside them: the same config, the checkpoint the run reports
(`selected`), the weights named in generation.json, and re-scoring test studies with them gives the run's reports."""
import hashlib, json
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / 'results' / 'toy' / 'runs'
COMMITTED = ['UAR-s0', 'e-s0', 'BASE-s0']   # the ones .gitignore lets in


@pytest.mark.parametrize('name', COMMITTED)
def test_checkpoint_matches_its_run(name):
    run = RUNS / name / 'run'
    best = run / 'checkpoints' / 'best'
    assert (best / 'model.safetensors').exists(), f'{best} is missing: it is committed (see .gitignore)'
    from uar_nb.config import Config
    assert Config.from_yaml(best / 'config.yaml') == Config.from_yaml(run / 'config.yaml'), f'{best}: another config than {run}'
    gen = json.loads((best / 'generation.json').read_text())
    assert gen['selected'] == json.loads((run / 'metrics.json').read_text())['selected'], f'{best} is not the checkpoint {run} reports'
    assert hashlib.sha256((best / 'model.safetensors').read_bytes()).hexdigest() == gen['model_sha256']


@pytest.mark.parametrize('name', COMMITTED)
def test_checkpoint_rewrites_the_runs_reports(name, tmp_path):
    "Test studies drawn again by the generator, scored with the committed weights: the reports of test_reports.jsonl."
    from uar_nb import viz
    run = RUNS / name / 'run'
    scored = [json.loads(l) for l in (run / 'test_reports.jsonl').read_text().splitlines()]
    ids = [r['id'] for r in scored[:3]] + [r['id'] for r in scored if len(r['findings']['true']) >= 2][:3]
    entries = viz.toy_test_studies(run, tmp_path, ids=ids)
    model = viz.load_run(run, data_dir=tmp_path)
    by_id = {r['id']: r['generated'] for r in scored}
    assert model.generate(viz.study_batch(model, entries)) == [by_id[i] for i in ids]


OTHER = ROOT.parent / 'shared' / 'data' / 'toy_study_other_machine' / 'runs'


@pytest.mark.skipif(not OTHER.is_dir(), reason='needs ../shared/data/toy_study_other_machine (the second machine\'s runs)')
@pytest.mark.parametrize('name', ['UAR-s0', 'BASE-s0'])
def test_decoding_travels_between_machines(name, tmp_path):
    """The exact-report check above holds across CPUs: the second machine's checkpoints (same commit, its own float
    kernels when it trained and decoded) decode here to the reports it wrote (200 of 200 studies over five runs when
    this was written; six here to stay fast)."""
    from uar_nb import viz
    run = OTHER / name / 'run'
    scored = [json.loads(l) for l in (run / 'test_reports.jsonl').read_text().splitlines()]
    ids = [r['id'] for r in scored[:6]]
    entries = viz.toy_test_studies(run, tmp_path, ids=ids)
    model = viz.load_run(run, data_dir=tmp_path)
    by_id = {r['id']: r['generated'] for r in scored}
    assert model.generate(viz.study_batch(model, entries)) == [by_id[i] for i in ids]
