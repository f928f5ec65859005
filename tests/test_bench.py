"""`uar bench --quick` produces a complete report on CPU, and the data pipeline keeps no per-entry Python objects.

No timing thresholds: the numbers depend on the machine and its load. The memory test is behavioural: it counts the
bytes of Python allocations (tracemalloc, deterministic) that stay alive per annotation entry.
"""
import json, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_quick_cli(tmp_path):
    out = tmp_path / 'bench.json'
    env = {**os.environ, 'HF_HUB_OFFLINE': '1', 'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(ROOT)}
    p = subprocess.run([sys.executable, '-m', 'uar_nb.cli', 'bench', '--device', 'cpu', '--quick', '--json', str(out)],
                       env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    assert '| UAR |' in p.stdout and '| BASE |' in p.stdout          # the printed table
    r = json.loads(out.read_text())
    assert r['environment']['packages']['torch'] and r['environment']['packages']['transformers']
    assert r['settings']['quick'] and r['environment']['device'] == 'cpu'
    assert {x['variant'] for x in r['results']} == {'UAR', 'BASE'}
    for x in r['results']:
        assert x['train_samples_per_s'] > 0 and x['reports_per_s'] > 0 and x['train_peak_mb'] > 0
        assert x['decode_len'] == 60 and x['beam_size'] == 3       # full-length beam-3 decoding
    assert {t['kind'] for t in r['image_tokenizers']} == {'dvae', 'kmeans'}
    assert all(t['images_per_s'] > 0 and t['tokens_per_image'] == 196 for t in r['image_tokenizers'])
    assert r['comparison']['ratios'] is None and 'H200' in r['comparison']['note']   # no peer ratio off the peers' card
    assert r['peers']['systems']['R2Gen']['train'][str(16)] == 45


def test_pipeline_memory_per_entry_is_small():
    """After the vocabulary, the image and token caches, the ReportDataset and one DataLoader pass over 5,000 MIMIC-style
    entries, the Python allocations still alive must stay under 1,000 bytes per entry. What is legitimately kept:
    the report ids as one flat int32 array (~60 ids x 4 bytes), offsets (8 bytes) and the entry id strings (~60 bytes).
    Keeping the annotation's entry dicts (id, study_id, subject_id, report text, path list: ~1.5 KB each) or a tensor
    per entry would break the bound. Imports are done before the baseline, so module objects do not count.
    Measured in a fresh interpreter: what an earlier test left alive in this pytest worker (a model trained in-process)
    would be counted too, and which tests ran before depends on how pytest-xdist shares them out."""
    env = {**os.environ, 'HF_HUB_OFFLINE': '1', 'PYTHONPATH': str(ROOT)}
    code = 'import json; from uar_nb.bench import scale_check; print(json.dumps(scale_check(5_000, trace=True)))'
    p = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    r = json.loads(p.stdout.strip().splitlines()[-1])
    assert r['n_seen'] == r['n_train']
    kept = r['traced_bytes_per_entry']
    print(json.dumps(kept))
    assert kept['vocabulary'] < 100, kept              # the tokenizer keeps only its word list
    assert kept['one DataLoader pass'] < 1000, kept
