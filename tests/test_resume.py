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


def _log_rows(run):
    "A run's log.jsonl rows without the wall-clock seconds (the only field a resumed run may change)."
    return [{k: v for k, v in json.loads(l).items() if k != 'seconds'} for l in (run / 'log.jsonl').read_text().splitlines()]


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
    assert _log_rows(killed) == _log_rows(full)


def test_kill_between_stage2_best_and_last_resumes_from_the_stage1_best(toy, tmp_path, monkeypatch):
    """Stage 2 starts from the stage-1 best. Its first validated epoch overwrites `best` a moment before `last` is
    written; a kill in that moment must not make the resumed stage 2 start from the stage-2 weights instead."""
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    import uar_nb.train as T
    from uar_nb.config import get_config
    cfg = get_config('toy', variant='UAR', overrides=SETTINGS + ['train.val_every=1', f'data.data_dir={toy}'])   # stage 2 validates its first epoch
    expected = T.train(cfg, tmp_path / 'full', quiet=True)

    killed, real_save = tmp_path / 'killed', T.save_checkpoint
    def save_then_die(model, path, trainer_state=None):
        real_save(model, path, trainer_state)
        log = killed / 'log.jsonl'
        if Path(path).name == 'best' and log.exists() and len(log.read_text().splitlines()) == cfg.train.stage1_epochs:
            raise KeyboardInterrupt   # killed right after stage 2's first best, before its `last`
    monkeypatch.setattr(T, 'save_checkpoint', save_then_die)
    with pytest.raises(KeyboardInterrupt): T.train(cfg, killed, quiet=True)
    monkeypatch.setattr(T, 'save_checkpoint', real_save)
    assert len((killed / 'log.jsonl').read_text().splitlines()) == cfg.train.stage1_epochs
    got = T.train(cfg, killed, resume=True, quiet=True)
    assert got['test'] == expected['test']
    assert got['selected'] == expected['selected']
    assert _log_rows(killed) == _log_rows(tmp_path / 'full')   # the same losses epoch by epoch: stage 2 began from the same weights
