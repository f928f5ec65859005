"""A killed `uar train` run, resumed with --resume, ends with the same metrics as an uninterrupted run (CPU)."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
UAR = [sys.executable, '-m', 'uar_nb.cli']
SETTINGS = ['model.d_model=32', 'model.n_heads=2', 'model.n_enc_layers=1', 'model.n_dec_layers=1', 'model.d_ff=64',
            'model.basis_size=64', 'lsu.kmeans_codes=32', 'lsu.kmeans_max_patches=2000', 'train.stage1_epochs=3',
            'train.stage2_epochs=2', 'train.max_steps_per_epoch=4', 'decode.beam_size=2', 'decode.max_len=24',
            'train.test_meteor=false']


def _train_cmd(data, run_dir, *extra):
    cmd = UAR + ['train', '--config', 'toy', '--variant', 'UAR', '--data', str(data), '--run-dir', str(run_dir), '--quiet']
    for s in SETTINGS: cmd += ['--set', s]
    return cmd + list(extra)


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    from uar_nb.toydata import generate_dataset
    d = tmp_path_factory.mktemp('toy') / 'data'
    generate_dataset(d, n=80, seed=1, progress=False)
    return d


def test_killed_run_resumes_to_identical_metrics(toy, tmp_path):
    env = {**os.environ, 'HF_HUB_OFFLINE': '1', 'OMP_NUM_THREADS': '1'}
    full = tmp_path / 'full'
    subprocess.run(_train_cmd(toy, full), check=True, env=env, capture_output=True)
    expected = json.loads((full / 'metrics.json').read_text())

    killed = tmp_path / 'killed'
    proc = subprocess.Popen(_train_cmd(toy, killed), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = killed / 'log.jsonl'
    deadline = time.time() + 300
    while time.time() < deadline and not (log.exists() and len(log.read_text().splitlines()) >= 2): time.sleep(0.02)
    proc.send_signal(signal.SIGKILL); proc.wait()
    assert not (killed / 'metrics.json').exists(), 'the run finished before it could be killed; make it longer'
    done = len(log.read_text().splitlines())
    assert 2 <= done < 5

    again = subprocess.run(_train_cmd(toy, killed), env=env, capture_output=True, text=True)
    assert again.returncode == 2 and '--resume' in again.stderr   # no accidental overwrite

    subprocess.run(_train_cmd(toy, killed, '--resume'), check=True, env=env, capture_output=True)
    got = json.loads((killed / 'metrics.json').read_text())
    assert got['test'] == expected['test']
    assert got['selected'] == expected['selected']
    assert got['retrieval'] == expected['retrieval']
    rows = [json.loads(l) for l in (killed / 'log.jsonl').read_text().splitlines()]
    ref = [json.loads(l) for l in (full / 'log.jsonl').read_text().splitlines()]
    strip = lambda rs: [{k: v for k, v in r.items() if k != 'seconds'} for r in rs]
    assert strip(rows) == strip(ref)
