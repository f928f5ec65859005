"""What pinning the float kernels buys: the same short `uar train` (toy preset, one variant and seed, few epochs) under
each kernel level and thread count this machine can force, timed, and compared number by number.

    python tools/numerics_pinning.py --json results/bench/numerics_pinning.json

A pin is worth adopting for the main job only if it makes the runs identical across the levels one can force and
costs under 25% time (issue 23). Writes one JSON: per setting the wall time, the losses of the log, the test metrics,
and which settings agree exactly with the native one.
"""
import argparse, json, os, subprocess, sys, tempfile, time
from pathlib import Path

SETTINGS = {   # name -> environment; threads via OMP/MKL
    'native, 1 thread': {},
    'AVX2 pinned, 1 thread': {'ATEN_CPU_CAPABILITY': 'avx2', 'ONEDNN_MAX_CPU_ISA': 'AVX2', 'MKL_CBWR': 'AVX2'},
    'no vector kernels (default), 1 thread': {'ATEN_CPU_CAPABILITY': 'default', 'ONEDNN_MAX_CPU_ISA': 'SSE41', 'MKL_CBWR': 'COMPATIBLE'},
    'native, 2 threads': {'threads': '2'},
}
NUMBERS = ('BLEU_4', 'CIDEr')


def run(name: str, env: dict, args, out: Path) -> dict:
    threads = env.pop('threads', '1') if 'threads' in env else '1'
    e = {**os.environ, **env, 'OMP_NUM_THREADS': threads, 'MKL_NUM_THREADS': threads}
    d = out / name.replace(' ', '_').replace(',', '').replace('(', '').replace(')', '')
    cmd = [sys.executable, '-m', 'uar_nb.cli', 'train', '--config', 'toy', '--variant', args.variant, '--seed', '0',
           '--data', args.data, '--run-dir', str(d), '--quiet', '--set', f'train.epochs={args.epochs}',
           '--set', f'train.stage1_epochs={max(1, args.epochs - 1)}', '--set', 'train.stage2_epochs=1']
    t0 = time.time()
    subprocess.run(cmd, env=e, check=True, capture_output=True)
    seconds = time.time() - t0
    log = [json.loads(l) for l in (d / 'log.jsonl').read_text().splitlines()]
    m = json.loads((d / 'metrics.json').read_text())
    info = json.loads((d / 'run.json').read_text())['numerics']
    return {'seconds': round(seconds, 1), 'cpu_capability': info['cpu_capability'], 'threads': info['threads'],
            'losses': [r['loss'] for r in log], 'test': {k: m['test'][k] for k in NUMBERS},
            'ce_f1': m.get('ce', {}).get('micro', {}).get('f1')}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--data', default='data/toy'); ap.add_argument('--variant', default='e')
    ap.add_argument('--epochs', type=int, default=3); ap.add_argument('--json', type=Path, default=None)
    ap.add_argument('--pinned-run', type=Path, default=None,
                    help='a full `uar train --config toy --variant BASE --seed 0` run folder made under the AVX2 pin, to set '
                         'against the second machine\'s run under the same pin (../shared/data/toy_study_other_machine/README.md)')
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        res = {name: run(name, dict(env), a, Path(tmp)) for name, env in SETTINGS.items()}
    ref = res['native, 1 thread']
    for r in res.values():
        r['identical_to_native_1_thread'] = r['losses'] == ref['losses'] and r['test'] == ref['test']
        r['max_loss_difference'] = max(abs(x - y) for x, y in zip(r['losses'], ref['losses']))
        r['time_vs_native'] = round(r['seconds'] / ref['seconds'], 2)
    out = {'what': f"uar train --config toy --variant {a.variant} --seed 0, {a.epochs} epochs, under each setting",
           'machine': ref['cpu_capability'], 'settings': SETTINGS, 'results': res}
    if a.pinned_run:   # does the pin make two machines agree? BASE-s0 of the main study, test CE micro-F1
        m = json.loads((a.pinned_run / 'metrics.json').read_text())
        out['cross_machine'] = {
            'run': 'BASE-s0 of studies/toy.yaml, one thread', 'metric': 'test CE micro-F1',
            'this machine, native': json.loads((Path('results/toy/runs/BASE-s0/run/metrics.json')).read_text())['ce']['micro']['f1'],
            'this machine, AVX2 pinned': m['ce']['micro']['f1'],
            'second machine (AMD EPYC, AVX-512), native': 0.751, 'second machine, AVX2 pinned': 0.658,
            'second machine source': '../shared/data/toy_study_other_machine/README.md (and issue 23)',
            'this machine': json.loads((a.pinned_run / 'run.json').read_text())['numerics']}
    text = json.dumps(out, indent=1)
    if a.json: a.json.parent.mkdir(parents=True, exist_ok=True); a.json.write_text(text + '\n')
    if 'cross_machine' in out: print({k: v for k, v in out['cross_machine'].items() if k != 'this machine'})
    for n, r in res.items():
        print(f"{n:40s} {r['seconds']:6.1f} s (x{r['time_vs_native']})  identical: {r['identical_to_native_1_thread']}  "
              f"max |loss diff| {r['max_loss_difference']:.2e}  CE F1 {r['ce_f1']}")


if __name__ == '__main__': main()
