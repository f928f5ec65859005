"""The claims audit (nbs/15_claims.ipynb): its outcome logic on simulated studies with a known truth, and the committed
five-seed study (results/toy_claims) re-aggregated from its run folders into the same claims.md, list and figure."""
import json, shutil
import numpy as np
import pytest
from conftest import ROOT
from uar_nb.claims import CLAIMS, _claim, audit, write_claims
from uar_nb.verdicts import simulate_runs

STUDY = ROOT / 'results' / 'toy_claims'
TABLES = ['BASE', 'a', 'b', 'c', 'd', 'e', 'f', 'UAR', 'basis-uniform', 'basis-normal', 'fusion-none', 'fusion-add']


def test_outcomes_follow_the_truth():
    "A planted effect in the paper's direction is supported, against it contradicted, none inconclusive; rank: lower wins."
    rng = np.random.default_rng(0)
    p = rng.uniform(0.2, 0.8, 400)
    ev = {'X': simulate_runs('X', 5, 0.15, 0.01, difficulty=p, rng=1), 'Y': simulate_runs('Y', 5, 0.0, 0.01, difficulty=p, rng=2),
          'Z': simulate_runs('Z', 5, 0.0, 0.01, difficulty=p, rng=3)}
    claims = [_claim('X beats Y', 'T', '', 'X', 'Y', metrics=()), _claim('Y beats X', 'T', '', 'Y', 'X', metrics=()),
              _claim('Z beats Y', 'T', '', 'Z', 'Y', metrics=())]
    rows = audit(ev, claims, n_boot=500)
    assert [(r['claim'], r['outcome']) for r in rows] == [('X beats Y', 'supported'), ('Y beats X', 'contradicted'),
                                                          ('Z beats Y', 'inconclusive')]


@pytest.fixture(scope='module')
def committed():
    if not (STUDY / 'claims.md').exists(): pytest.skip('results/toy_claims is not committed: make claims, then uar publish')
    return STUDY


def test_every_row_of_tables_2_to_4_has_five_seeds(committed):
    runs = {}
    for rj in committed.glob('runs/*/run/run.json'):
        info = json.loads(rj.read_text()); runs.setdefault(info['variant'], set()).add(info['seed'])
    assert {v: sorted(s) for v, s in runs.items()} == {v: [0, 1, 2, 3, 4] for v in TABLES}


def test_claims_are_generated_from_the_committed_run_folders(committed, tmp_path):
    copy = tmp_path / 'toy_claims'
    for f in committed.glob('runs/*/run/*.json*'):
        dst = copy / f.relative_to(committed); dst.parent.mkdir(parents=True, exist_ok=True); shutil.copy(f, dst)
    write_claims(copy)
    for name in ('claims.md', 'claims_list.md'):
        assert (copy / name).read_text() == (committed / name).read_text(), name
    a, b = (json.loads((d / 'claims.json').read_text())['claims'] for d in (copy, committed))
    assert [(r['claim'], r['metric'], r['outcome']) for r in a] == [(r['claim'], r['metric'], r['outcome']) for r in b]
    from PIL import Image
    assert abs(Image.open(copy / 'figures' / 'claims.png').size[0] - Image.open(committed / 'figures' / 'claims.png').size[0]) < 40


def test_every_claim_has_an_effect_an_interval_and_an_outcome(committed):
    rows = json.loads((committed / 'claims.json').read_text())['claims']
    assert {r['claim'] for r in rows} == {c['id'] for c in CLAIMS}
    for r in rows:
        assert np.isfinite([r['effect'], r['lo'], r['hi']]).all() and r['lo'] <= r['effect'] <= r['hi'], r
        assert r['outcome'] in ('supported', 'contradicted', 'inconclusive') and r['seeds_x'] == 5


def test_the_committed_study_is_lean(committed):
    size = sum(f.stat().st_size for f in committed.rglob('*') if f.is_file())
    assert size < 30e6 and not list(committed.rglob('*.safetensors')), f'{size / 1e6:.1f} MB'
