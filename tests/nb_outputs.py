"""Saved notebook outputs: run a notebook as the tests do, save its outputs, check the saved ones are current.

Every teaching notebook (nbs/*.ipynb, not nbs/experiments/) is committed with its outputs so a reader on GitHub
sees printed values and figures without running anything. Two users of this module:

- `make outputs` (`python tests/nb_outputs.py [NOTEBOOK ...]`) executes notebooks and writes their outputs in;
- tests/test_notebooks.py executes each notebook once (the notebook test) and compares the fresh outputs with the
  saved ones (`compare`); stale outputs fail the test with the notebook, the cell and the difference.

Execution has nbdev_test's semantics (cells flagged `#| slow`/`#| gpu`, `#| eval: false` and `nbdev_export()`
cells do not run) in an offline environment, and every notebook starts from the same global state (seeds 0,
matplotlib defaults), whichever notebook ran before it in the same process. Figures are saved at 72 dpi (or a cell's
`#| figure_dpi`) as 256-colour PNGs; tqdm bars and widgets are not saved. The experiment notebooks (papermill inputs) stay output-free.

What the comparison ignores (see `normalise`): temporary and checkout paths, durations and clock times, memory
addresses; numbers written with a fraction agree within `REL_TOL`/`ABS_TOL` or one unit of the last printed digit;
whitespace; figures are compared by presence and pixel size only (`IMAGE_PX_TOL`). Numbers that differ between
runs by nature (thread scheduling, wall clock, a model trained by gradient descent, whose numbers follow the CPU's
float kernels) are masked per cell, never globally, with a directive at the top of the cell that says why on the
next line:

    #| outputs_vary: numbers     # every number in this cell's text outputs is masked; the rest must match
    #| outputs_vary: text        # only the number and kind of outputs are compared
    #| outputs_vary: shared      # the outputs come from ../shared (absent in a user's clone): compared only when present

The figures a reader is meant to study (attention over an X-ray, retrieval text) can be saved sharper, per cell:
`#| figure_dpi: 150` (50-200) draws that cell's figures at 150 dpi; keep it to the few that need it (repo size).

Saved outputs must not depend on the CPU they were made on (CI's may lack AVX-512). To check a notebook as another
CPU would run it, force PyTorch's AVX2 kernels:

    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 .venv/bin/pytest tests/test_notebooks.py -k <notebook>

A notebook without saved outputs fails the check when running it shows anything. Runs with forced flags
(UAR_TEST_FLAGS=slow) are not compared: the saved outputs come from the default run.
"""
import argparse, base64, concurrent.futures, difflib, json, math, os, re, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / 'nbs'
SHARED = ROOT.parent / 'shared'   # reference data beside the clone (the project's machines; not a user's clone)
# Tests and notebooks never reach a hub: the kit is offline by default (tests/conftest.py applies the same).
OFFLINE_ENV = {'HF_HUB_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1', 'MPLBACKEND': 'Agg'}
SKIP_FLAGS = ('slow', 'gpu')  # settings.ini tst_flags
# Compact figures: saved as plain PNG (not retina) at a small dpi, so a notebook stays well under MAX_NB_BYTES.
FIGURE_RC = {'figure.dpi': 72, 'savefig.dpi': 72}
MAX_NB_BYTES, MAX_NBS_BYTES = 1_000_000, 10_000_000
REL_TOL, ABS_TOL = 1e-3, 1e-6
IMAGE_PX_TOL = 2  # tight bounding boxes move by a pixel with font rendering (another matplotlib/freetype)
REFRESH = 'run `make outputs` (or `make outputs NB=nbs/<notebook>.ipynb`) and commit the notebook'


def visible(p): return not any(part.startswith(('_', '.')) for part in Path(p).relative_to(NBS).parts)


def all_notebooks():
    "Every notebook the tests execute (nbdev skips folders starting with _ or .)."
    return sorted(p for p in NBS.rglob('*.ipynb') if visible(p))


def is_teaching(nb_path):
    "Teaching notebooks keep their outputs; the experiment notebooks are papermill inputs and stay output-free."
    return 'experiments' not in Path(nb_path).resolve().relative_to(NBS).parts[:-1]


def teaching_notebooks(): return [p for p in all_notebooks() if is_teaching(p)]


# ---------------------------------------------------------------------------------------------- execution
def _fresh_state():
    "The same global state before every notebook: seeds 0, matplotlib's defaults + compact figures, no figures open."
    import random
    random.seed(0)
    try:
        import numpy as np; np.random.seed(0)
    except ImportError: pass
    try:
        import torch; torch.manual_seed(0)
    except ImportError: pass
    import matplotlib; matplotlib.rcdefaults(); matplotlib.rcParams.update(FIGURE_RC)
    import matplotlib.pyplot as plt; plt.close('all')


def figure_dpi(cell) -> int | None:
    "The `#| figure_dpi: N` directive of a cell (None without one): its figures are saved at N dpi instead of 72."
    v = (getattr(cell, 'directives_', {}) or {}).get('figure_dpi:')
    if not v: return None
    if not v[0].isdigit() or not 50 <= int(v[0]) <= 200:
        raise ValueError(f'cell {_first_line(cell)!r}: `#| figure_dpi: {v[0]}` - give a whole number of dpi from 50 to 200')
    return int(v[0])


def execute(nb_path, force_flags=()):
    """Run `nb_path` top to bottom like nbdev_test; return (processed notebook with fresh outputs, error text or None).

    Cells of the returned notebook carry `id`, `directives_` and `outputs` (only cells that ran have outputs)."""
    from nbdev.process import NBProcessor
    from nbdev.frontmatter import FrontmatterProc
    from execnb.shell import CaptureShell
    from fastcore.xtras import working_directory
    for k, v in OFFLINE_ENV.items(): os.environ.setdefault(k, v)
    os.environ['IN_TEST'] = '1'  # what nbdev's test_nb sets
    os.environ['COLUMNS'] = '80'  # argparse help (13_cli) wraps at the terminal's width otherwise
    nb_path = Path(nb_path).resolve()
    flags = set(SKIP_FLAGS) - set(force_flags)
    nb = NBProcessor(nb_path, procs=FrontmatterProc, process=True).nb
    for c in nb.cells:
        if c.cell_type == 'code': c.outputs, c.ran_ = [], False

    def no_eval(cell):
        if cell.cell_type != 'code': return True
        if 'nbdev_export' + '(' in cell.source: return True
        d = getattr(cell, 'directives_', {}) or {}
        if d.get('eval:', [''])[0].lower() == 'false': return True
        if flags & d.keys(): return True
        cell.ran_ = True
        import matplotlib   # this cell's figures at its `#| figure_dpi: N` (the figures a reader studies), else compact
        matplotlib.rcParams['figure.dpi'] = figure_dpi(cell) or FIGURE_RC['figure.dpi']
        return False

    _fresh_state()
    shell = CaptureShell(nb_path, mpl_format='png')
    try:
        with working_directory(nb_path.parent):
            shell.run_all(nb, exc_stop=True, preproc=no_eval)
        return nb, None
    except BaseException:
        return nb, shell.prettytb(fname=nb_path)


# ------------------------------------------------------------------------------------- outputs to save
_WIDGET_MIMES = ('application/vnd.jupyter.widget-view+json', 'application/vnd.jupyter.widget-state+json')
# A tqdm progress line: "desc:  40%|####      | 4/10 [00:01<00:02, 3.1it/s, loss=0.2]" (also without a bar).
_TQDM = re.compile(r'(\d+%\|.*\|\s*)?\d+(\.\d+)?[kMG]?/(\d+(\.\d+)?[kMG]?|\?)\s*\[[^\]]*(it/s|s/it|\?)[^\]]*\]')


def _strip_progress(text):
    "Drop tqdm progress bars (redrawn with \\r, one line per refresh) from a stream; keep everything else."
    keep = []
    for line in text.split('\n'):
        parts = [p for p in line.split('\r') if p.strip() and not _TQDM.search(p)]
        if parts or not line.strip(): keep.append(parts[-1] if parts else '')
    return re.sub(r'\n{3,}', '\n\n', '\n'.join(keep)).strip('\n') + ('\n' if text.endswith('\n') else '')


def _as_dict(o):
    "execnb's AttrDict outputs as plain JSON dicts."
    if isinstance(o, dict): return {k: _as_dict(v) for k, v in o.items()}
    if isinstance(o, list): return [_as_dict(v) for v in o]
    return o


def compact_png(b64):
    "A figure as a 256-colour PNG (same pixel size, 3-4x fewer bytes than matplotlib's RGBA; plots rarely need more)."
    import io
    from PIL import Image
    im = Image.open(io.BytesIO(base64.b64decode(b64))).convert('RGBA')
    flat = Image.alpha_composite(Image.new('RGBA', im.size, 'white'), im).convert('RGB')
    buf = io.BytesIO()
    flat.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(buf, 'png', optimize=True)
    small = base64.b64encode(buf.getvalue()).decode()
    return small if len(small) < len(b64) else b64


def saveable(outputs, compact=True):
    """Fresh outputs as they are saved: no widgets, no progress bars, no empty streams, compact figures (unless not
    `compact`: the comparison needs only their size), cleaned like nbdev_clean."""
    from nbdev.clean import _clean_cell_output
    res = []
    for o in map(_as_dict, outputs):
        if o['output_type'] in ('display_data', 'execute_result'):
            if any(m in o.get('data', {}) for m in _WIDGET_MIMES): continue
            if compact and 'image/png' in o['data']: o['data']['image/png'] = compact_png(''.join(o['data']['image/png']))
        if o['output_type'] == 'stream':
            text = _strip_progress(''.join(o['text']))
            if not text.strip(): continue
            o['text'] = text.splitlines(True)
        res.append(o)
    cell = {'outputs': res}
    _clean_cell_output(cell, clean_ids=True)  # execution counts, ' at 0x...' in reprs, image data rstripped
    return cell['outputs']


def save(nb_path, nb):
    "Write the fresh outputs of executed notebook `nb` into the file `nb_path` (and nbdev_clean it)."
    from nbdev.clean import clean_nb
    from nbdev.config import get_config
    from execnb.nbio import write_nb, dict2nb
    nb_path = Path(nb_path)
    raw = json.loads(nb_path.read_text(encoding='utf-8'))
    fresh = {c.id: c for c in nb.cells if c.cell_type == 'code'}
    for c in raw['cells']:
        if c['cell_type'] != 'code': continue
        c['execution_count'] = None
        c['outputs'] = saveable(fresh[c['id']].outputs) if c.get('id') in fresh else []
    cfg = get_config(path=nb_path.parent)  # nbdev_clean's settings, but outputs are kept whatever clear_all says
    clean_nb(raw, False, cfg.get('allowed_metadata_keys').split(), cfg.get('allowed_cell_metadata_keys').split(),
             cfg.clean_ids)
    write_nb(dict2nb(raw), nb_path)


# --------------------------------------------------------------------------------------------- comparison
_MASKS = [  # (pattern, replacement), applied in order to the text outputs of both sides
    (re.compile(r'\d{4}-\d\d-\d\d[T _]\d\d:?\d\d:?\d\d(\.\d+)?([+-]\d\d:?\d\d|Z)?'), '<datetime>'),
    (re.compile(r'\b\d\d?:\d\d(:\d\d(\.\d+)?)?\b'), '<clock>'),
    (re.compile(r'(?<![\w.])[-+]?\d+(\.\d+)?(e[-+]?\d+)?\s?(ns|us|µs|ms|s|sec|secs|seconds?|min|mins|minutes?|h|hours?|it/s|s/it)\b'),
     '<duration>'),
    (re.compile(r'0x[0-9a-fA-F]{6,}'), '<address>'),
    (re.compile(r'\b(pid|id)([=: ]+)\d{5,}', re.I), r'\1\2<id>'),  # process and object ids, not small ids
]
_NUMBER = re.compile(r'(?<![\d.])[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?(?![\d.])')  # also in x1.8, toy_00033


def _path_masks():
    tmp = re.escape(os.path.realpath(tempfile.gettempdir()))
    paths = [(str(ROOT), '<root>'), (os.path.realpath(ROOT), '<root>'), (sys.prefix, '<venv>'),
             (os.path.expanduser('~'), '<home>')]
    return ([(re.compile(re.escape(p)), r) for p, r in sorted(set(paths), key=lambda x: -len(x[0])) if len(p) > 1]
            + [(re.compile(rf'(/private)?({tmp}|/tmp|/var/folders)/[^\s\'",)\]]*'), '<tmp>')])


def normalise(text):
    "Text of an output with what changes from run to run masked (paths, durations, clocks, addresses, ids)."
    for pat, rep in _path_masks() + _MASKS: text = pat.sub(rep, text)
    return text


def _unit(tok):
    "One unit in the last printed digit of a number token ('0.125' -> 0.001, '1.5e-03' -> 1e-4)."
    mant, _, exp = tok.lower().partition('e')
    decimals = len(mant.split('.')[1]) if '.' in mant else 0
    return 10.0 ** (-decimals + (int(exp) if exp else 0))


def numbers_agree(a, b):
    "Integers must be equal; numbers with a fraction or exponent agree within tolerance or one last printed digit."
    if not any(c in t for t in (a, b) for c in '.eE'): return int(a) == int(b)
    x, y = float(a), float(b)
    return math.isclose(x, y, rel_tol=REL_TOL, abs_tol=ABS_TOL) or abs(x - y) <= 1.0001 * max(_unit(a), _unit(b))


def texts_agree(saved, fresh, vary=None):
    "Whether two normalised texts agree: same words (whitespace ignored), numbers as `numbers_agree`."
    if vary == 'text': return True
    if vary == 'numbers': saved, fresh = (re.sub(r'[-+]?\d[\d.]*([eE][-+]?\d+)?', '<n>', t) for t in (saved, fresh))
    def split(t): parts = _NUMBER.split(t); return parts[::3], [m.group(0) for m in _NUMBER.finditer(t)]
    (ws, ns), (wf, nf) = split(saved), split(fresh)
    squash = lambda words: [re.sub(r'\s+', '', w or '') for w in words]
    return squash(ws) == squash(wf) and len(ns) == len(nf) and all(map(numbers_agree, ns, nf))


def _kind(o):
    if o['output_type'] == 'stream': return f"stream:{o['name']}"
    return f"{o['output_type']}:{'+'.join(sorted(o.get('data', {})))}"


def _texts(o):
    "(label, text) of each text part of an output."
    if o['output_type'] == 'stream': return [(o['name'], ''.join(o['text']))]
    if o['output_type'] == 'error': return [('error', f"{o['ename']}: {o['evalue']}")]
    return [(m, ''.join(v) if isinstance(v, list) else str(v)) for m, v in sorted(o.get('data', {}).items())
            if m.startswith('text/')]


def png_size(b64):
    "(width, height) in pixels of a base64 PNG, read from its IHDR chunk."
    head = base64.b64decode(''.join(b64) if isinstance(b64, list) else b64)[:24]
    return int.from_bytes(head[16:20], 'big'), int.from_bytes(head[20:24], 'big')


def _images(o):
    return {m: v for m, v in o.get('data', {}).items() if m.startswith('image/')}


def _diff(saved, fresh, n=12):
    lines = list(difflib.unified_diff(saved.splitlines(), fresh.splitlines(), 'saved', 'fresh', lineterm='', n=1))
    return '\n'.join(lines[:n] + (['    ...'] if len(lines) > n else []))


def _first_line(cell):
    "The first line of a cell's code (after its #| directives), to name the cell in messages."
    return next((l for l in cell.source.splitlines() if l.strip() and not l.lstrip().startswith('#|')),
                '<empty cell>')[:80]


def cell_vary(cell):
    "The `#| outputs_vary: numbers|text|shared` directive of a cell (None without one)."
    v = (getattr(cell, 'directives_', {}) or {}).get('outputs_vary:')
    if v and v[0] not in ('numbers', 'text', 'shared'):
        raise ValueError(f'cell {_first_line(cell)!r}: `#| outputs_vary: {v[0]}` - use `numbers`, `text` or `shared`')
    return v[0] if v else None


def compare_cell(saved, fresh, vary=None):
    "Differences between a cell's saved outputs and its fresh ones (saveable form): a list of messages."
    if vary == 'shared':
        if not SHARED.exists(): return []   # a clone without ../shared: the cell shows only that it skipped
        vary = None
    if [_kind(o) for o in saved] != [_kind(o) for o in fresh]:
        return [f'outputs differ in number or kind: saved {[_kind(o) for o in saved]}, '
                f'fresh {[_kind(o) for o in fresh]}']
    problems = []
    for i, (s, f) in enumerate(zip(saved, fresh)):
        for (label, st), (_, ft) in zip(_texts(s), _texts(f)):
            ns, nf = normalise(st), normalise(ft)
            if not texts_agree(ns, nf, vary): problems.append(f'output {i} ({label}) differs:\n{_diff(ns, nf)}')
        for m, data in _images(s).items():
            # a figure's size follows its tick labels, which are numbers: under `numbers`/`text` only its presence counts
            if m != 'image/png' or vary in ('numbers', 'text'): continue
            (ws, hs), (wf, hf) = png_size(data), png_size(_images(f)[m])
            if abs(ws - wf) > IMAGE_PX_TOL or abs(hs - hf) > IMAGE_PX_TOL:
                problems.append(f'output {i}: figure size differs: saved {ws}x{hs} px, fresh {wf}x{hf} px')
    return problems


def compare(nb_path, nb):
    """Messages saying where the saved outputs of `nb_path` differ from executed notebook `nb` ([] when current).
    `nb` must come from a default run (`execute` without force_flags), as the saved outputs do."""
    nb_path = Path(nb_path)
    name = nb_path.relative_to(ROOT) if nb_path.is_relative_to(ROOT) else nb_path
    raw = json.loads(nb_path.read_text(encoding='utf-8'))
    saved = {c.get('id'): c.get('outputs', []) for c in raw['cells'] if c['cell_type'] == 'code'}
    if not any(saved.values()) and any(c.get('outputs') for c in nb.cells if c.cell_type == 'code'):
        # (a notebook that shows nothing when run, e.g. a start page of prose, has nothing to save)
        return [f'{name} has no saved outputs: a reader on GitHub sees no printed value or figure; {REFRESH}.']
    problems = []
    for n, cell in enumerate(c for c in nb.cells if c.cell_type == 'code'):
        for p in compare_cell(saved.get(cell.id, []), saveable(cell.outputs, compact=False), cell_vary(cell)):
            problems.append(f'{name}, code cell {n + 1} `{_first_line(cell)}`: {p}')
    if problems: problems.append(f'The saved outputs of {name} are stale: {REFRESH}.')
    return problems


# ------------------------------------------------------------------------------------------ `make outputs`
def sizes():
    "Problems with notebook sizes (each teaching notebook < 1 MB, nbs/ < 10 MB)."
    big = [f'{p.relative_to(ROOT)} is {p.stat().st_size / 1e6:.2f} MB (limit {MAX_NB_BYTES / 1e6:.0f} MB): '
           'make its figures smaller or fewer' for p in teaching_notebooks() if p.stat().st_size > MAX_NB_BYTES]
    total = sum(p.stat().st_size for p in NBS.rglob('*') if p.is_file())
    if total > MAX_NBS_BYTES: big.append(f'nbs/ holds {total / 1e6:.1f} MB (limit {MAX_NBS_BYTES / 1e6:.0f} MB)')
    return big


def refresh(nb_path):
    "Execute one notebook and save its outputs; return an error text or None."
    nb, err = execute(nb_path)
    if err: return err
    save(nb_path, nb)


def _refresh_in_subprocess(nb_path, threads=None):
    """One fresh process per notebook: nothing (imports, seeds, figures) leaks from one notebook to the next.
    `threads`: torch/OpenMP threads of the process, so that parallel notebooks do not oversubscribe the cores
    (spinning OpenMP threads then slow torch down many times)."""
    env = dict(os.environ, **({'OMP_NUM_THREADS': str(threads)} if threads and 'OMP_NUM_THREADS' not in os.environ else {}))
    t = time.time()
    r = subprocess.run([sys.executable, __file__, '--one', str(nb_path)], capture_output=True, text=True, env=env)
    return nb_path, r.returncode, r.stdout + r.stderr, time.time() - t


def main(argv=None):
    ap = argparse.ArgumentParser(description='Execute teaching notebooks and save their outputs into them.')
    ap.add_argument('notebooks', nargs='*', help='notebooks to refresh (default: every teaching notebook)')
    ap.add_argument('--jobs', type=int, default=1, help='notebooks executed at the same time')
    ap.add_argument('--one', help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.one:
        err = refresh(a.one)
        if err: print(err, file=sys.stderr)
        return 1 if err else 0
    nbs = [Path(p).resolve() for p in a.notebooks] or teaching_notebooks()
    for p in nbs:
        if not p.exists(): ap.error(f'{p} does not exist')
        if not is_teaching(p): ap.error(f'{p.relative_to(ROOT)} is an experiment notebook: those stay output-free')
    failed, t0 = [], time.time()
    jobs = max(1, min(a.jobs, len(nbs)))
    threads = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else None
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        for p, rc, log, secs in pool.map(lambda p: _refresh_in_subprocess(p, threads), nbs):
            kb = p.stat().st_size / 1e3
            print(f'{p.relative_to(ROOT)}: {"saved" if rc == 0 else "FAILED"} in {secs:.0f} s, {kb:.0f} kB', flush=True)
            if rc: failed.append(p); print(log, file=sys.stderr)
    print(f'{len(nbs) - len(failed)}/{len(nbs)} notebooks refreshed in {time.time() - t0:.0f} s')
    for msg in sizes(): print(msg, file=sys.stderr)
    return 1 if failed or sizes() else 0


if __name__ == '__main__': sys.exit(main())
