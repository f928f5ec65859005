"""Bad input that used to end in a wrong or stale result, a damaged folder or a raw traceback (issue 13): each case
through the command line (exit status 2 and one message naming the input) or the library call a user makes."""
import json, os, shutil, subprocess, sys, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
UAR = [sys.executable, '-m', 'uar_nb.cli']
ENV = {**os.environ, 'HF_HUB_OFFLINE': '1', 'OMP_NUM_THREADS': '1'}


def uar(*args, **kw):
    return subprocess.run(UAR + [str(a) for a in args], env=ENV, capture_output=True, text=True, **kw)


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    from uar_nb.study import smoke_data
    return smoke_data(tmp_path_factory.mktemp('data') / 'toy')


def _copy(toy, tmp, change=None):
    "A copy of the toy data with `change(root, annotation)` applied to it."
    root = tmp / 'data'; shutil.copytree(toy, root, ignore=shutil.ignore_patterns('.uar_cache'))
    ann = json.loads((root / 'annotation.json').read_text())
    if change: change(root, ann)
    (root / 'annotation.json').write_text(json.dumps(ann))
    return root


def _study(tmp, data, name='s', variants='[UAR]', extra=()):
    from uar_nb.study import SMOKE_OVERRIDES
    over = '\n'.join(f'  - {o}' for o in [*SMOKE_OVERRIDES, *extra])
    p = tmp / f'{name}.yaml'
    p.write_text(f'name: {name}\ndataset: toy\ndata_dir: {data}\npreset: toy\nvariants: {variants}\nseeds: [0]\ndevice: cpu\n'
                 f'overrides:\n{over}\n')
    return p


# --- item 8: every split is checked before any training ------------------------------------------------------------
@pytest.mark.parametrize('variant,change,message', [
    ('UAR', lambda r, a: a.update(val=[]), "split 'val' has no usable entries"),
    ('BASE', lambda r, a: (r / 'images' / a['test'][0]['image_path'][1]).unlink(), "split 'test': 1 image file(s) missing"),
    ('BASE', lambda r, a: a['test'][1].update(report=''), "split 'test' entry 1"),
    ('UAR', lambda r, a: (r / 'labels.json').unlink(), 'labels.json not found'),
])
def test_bad_split_fails_before_training(toy, tmp_path, variant, change, message):
    from uar_nb.study import setup_run, SMOKE_OVERRIDES
    from uar_nb.train import train
    cfg, run = setup_run(variant, data_dir=str(_copy(toy, tmp_path, change)), overrides=SMOKE_OVERRIDES, run_dir=str(tmp_path / 'run'))
    with pytest.raises(ValueError, match=None) as e: train(cfg, run, quiet=True)
    assert message in str(e.value), str(e.value)
    assert not (run / 'checkpoints').exists() and not (run / 'log.jsonl').exists()   # not one epoch trained


# --- item 3: duplicate ids ------------------------------------------------------------------------------------------
def test_duplicate_test_ids_are_refused_not_scored_on_fewer(toy, tmp_path):
    data = _copy(toy, tmp_path, lambda r, a: a['test'].append(dict(a['test'][0])))
    from uar_nb.data import load_annotation, DataError
    with pytest.raises(DataError, match="split 'test' has 1 entries with a repeated id .*'toy_000"):
        load_annotation(data / 'annotation.json', 'toy')
    with pytest.warns(UserWarning, match='keeping the first entry of each'):
        test = load_annotation(data / 'annotation.json', 'toy', strict=False)['test']
    assert len(test) == len({e['id'] for e in test})


# --- items 10 and 11, and the CLI messages ----------------------------------------------------------------------------
def test_cli_refuses_with_one_line(toy, tmp_path):
    (tmp_path / 'file').write_text('x')
    r = uar('toy', '--out', tmp_path / 'file', '--n', 3, '--quiet')
    assert r.returncode == 2 and 'is a file: give a folder' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    data = _copy(toy, tmp_path)
    before = (data / 'annotation.json').read_bytes()
    r = uar('toy', '--out', data, '--n', 3, '--quiet')
    assert r.returncode == 2 and 'already holds a dataset' in r.stderr, r.stderr
    assert (data / 'annotation.json').read_bytes() == before

    ann = json.loads((data / 'annotation.json').read_text())
    rows = ['id,report'] + [f'{e["id"]},{e["report"].replace(". ", ", ")}' for e in ann['test']]   # commas, unquoted
    (tmp_path / 'p.csv').write_text('\n'.join(rows) + '\n')
    r = uar('score', '--annotation', data / 'annotation.json', '--predictions', tmp_path / 'p.csv', '--dataset', 'toy')
    assert r.returncode == 2 and 'p.csv: line ' in r.stderr and 'fields, the header 2' in r.stderr, r.stderr

    for dev in ['tpu', 'gpu']:
        r = uar('train', '--variant', 'BASE', '--data', data, '--run-dir', tmp_path / 'r', '--device', dev)
        assert r.returncode == 2 and f"device '{dev}' is not one the kit runs on" in r.stderr, r.stderr
    r = uar('study', _study(tmp_path, data), '--device', 'gpu', '--results', tmp_path / 'res')
    assert r.returncode == 2 and "device 'gpu'" in r.stderr, r.stderr
    (tmp_path / 'evil.yaml').write_text(_study(tmp_path, data).read_text().replace('name: s', 'name: ../escaped'))
    r = uar('study', tmp_path / 'evil.yaml', '--results', tmp_path / 'res')
    assert r.returncode == 2 and "name '../escaped' must be a plain folder name" in r.stderr, r.stderr
    assert not (tmp_path / 'escaped').exists()


# --- items 1, 2, 7: studies -------------------------------------------------------------------------------------------
def test_study_refuses_a_complete_run_of_another_config(toy, tmp_path):
    from uar_nb.config import apply_overrides
    from uar_nb.study import load_study, run_study, StudyError
    st = _study(tmp_path, toy)
    run = tmp_path / 'res' / 's' / 'runs' / 'UAR-s0' / 'run'
    (run / 'checkpoints' / 'best').mkdir(parents=True)
    (run / 'run.json').write_text(json.dumps({'status': 'complete'})); (run / 'metrics.json').write_text('{}')
    old = apply_overrides(load_study(st).config('UAR', 0), {'train.lr': 0.01})   # the study said lr 0.01 back then
    old.to_yaml(run / 'config.yaml')
    with pytest.raises(StudyError, match=r"UAR-s0: train.lr: 0.01 in the run, 0.002 now") as e:
        run_study(st, results_dir=tmp_path / 'res', quiet=True)
    assert '--rerun-changed' in str(e.value)
    assert (run / 'config.yaml').exists()                 # refused before anything was touched


def test_study_exits_nonzero_naming_each_failed_run(toy, tmp_path):
    st = _study(tmp_path, toy, 'broken', extra=['model.basis_size=0'])   # CRA cannot build: the run fails in training
    r = uar('study', st, '--results', tmp_path / 'res', '--quiet')
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert 'broken: 1 of 1 runs failed' in r.stderr and 'UAR-s0: ' in r.stderr and 'n >= 1' in r.stderr, r.stderr
    assert json.loads((tmp_path / 'res' / 'broken' / 'summary.json').read_text())['failed'] == 1


def test_second_study_on_one_folder_is_refused_naming_the_holder(toy, tmp_path):
    from uar_nb.study import run_study, StudyError
    st, sd = _study(tmp_path, toy), tmp_path / 'res' / 's'
    sd.mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, '-c', 'import sys, time; from uar_nb.study import FolderLock\n'
                               'with FolderLock(sys.argv[1], "uar study first.yaml"): print("locked", flush=True); time.sleep(60)', str(sd)],
                              env=ENV, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'locked'
        with pytest.raises(StudyError, match=f'is in use by pid {holder.pid} on .*uar study first.yaml'):
            run_study(st, results_dir=tmp_path / 'res', quiet=True)
        assert not (sd / 'runs').exists()                  # nothing of the first study's folder was touched
    finally:
        holder.kill(); holder.wait()
    from uar_nb.study import FolderLock
    with FolderLock(sd): pass                               # the lock died with its holder (kill -9 leaves none)


# --- uar generate from the command line, on a run trained by `uar train` ------------------------------------------------
def test_uar_generate_on_a_trained_run(toy, tmp_path):
    from uar_nb.study import SMOKE_OVERRIDES
    data, run = _copy(toy, tmp_path), tmp_path / 'run'
    sets = [x for o in SMOKE_OVERRIDES for x in ('--set', o)]
    r = uar('train', '--variant', 'UAR', '--data', data, '--run-dir', run, *sets)
    assert r.returncode == 0, r.stderr
    written = [json.loads(l) for l in (run / 'test_reports.jsonl').read_text().splitlines()]
    ann = {e['id']: e for e in json.loads((data / 'annotation.json').read_text())['test']}
    moved = tmp_path / 'elsewhere' / 'run'; shutil.move(str(run), moved); shutil.move(str(data), tmp_path / 'data_gone')
    data = tmp_path / 'data_gone'                                        # the run folder alone, the data elsewhere
    first = written[0]['id']
    r = uar('generate', '--run', moved, '--images', *[data / 'images' / p for p in ann[first]['image_path']], '--device', 'cpu',
            '--figures', tmp_path / 'figs')
    assert r.returncode == 0 and r.stdout.strip() == written[0]['generated'], (r.stdout, r.stderr)
    assert (tmp_path / 'figs' / '0.png').exists()
    r = uar('generate', '--run', moved, '--input', data / 'annotation.json', '--out', tmp_path / 'reports.csv', '--quiet')
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)['n'] == len(written)
    r = uar('score', '--annotation', data / 'annotation.json', '--predictions', tmp_path / 'reports.csv', '--dataset', 'toy')
    assert r.returncode == 0, r.stderr
    r = uar('generate', '--run', moved, '--images', data / 'images' / ann[first]['image_path'][0])
    assert r.returncode == 2 and 'the model reads 2 view(s) per study' in r.stderr, r.stderr
    (moved / 'metrics.json').unlink(); (moved / 'run.json').write_text(json.dumps({'status': 'failed'}))
    r = uar('generate', '--run', moved, '--images', *[data / 'images' / p for p in ann[first]['image_path']])
    assert r.returncode == 2 and "never finished (status 'failed')" in r.stderr, r.stderr
