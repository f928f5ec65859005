"""Silent wrong results and damaged output on the new surfaces (issue 27): the cases fixed so far, each with the input
that used to give a wrong answer. The CLI cases run `uar` as a user does (exit status 2 and one message naming the input)."""
import csv, json, os, subprocess, sys
import pytest
from uar_nb.labeler import LabelerError, is_missing, read_csv_table, read_reports, write_labels, ReportRow
from uar_nb.metrics import PredictionsError, read_predictions

UAR = [sys.executable, '-m', 'uar_nb.cli']
ENV = {**os.environ, 'HF_HUB_OFFLINE': '1', 'OMP_NUM_THREADS': '1'}


def uar(*args): return subprocess.run(UAR + [str(a) for a in args], env=ENV, capture_output=True, text=True)


def test_a_stray_quote_is_named_with_its_lines_not_swallowed(tmp_path):
    "Was: rc 0, n 2 of 12 rows, the swallowed rows merged into one report."
    f = tmp_path / 'reports.csv'
    rows = [f'{i},no acute disease {i}' for i in range(3, 13)]
    f.write_text('id,report\n1,normal heart\n2,"stray quote here\n' + '\n'.join(rows) + '\n')
    r = uar('label', '--input', f, '--out', tmp_path / 'labels.csv')
    assert r.returncode == 2 and 'lines 3-' in r.stderr and 'a quote (")' in r.stderr, r.stderr
    assert not (tmp_path / 'labels.csv').exists()
    with pytest.raises(PredictionsError, match='were read as one row'): read_predictions(f)


def test_a_quoted_multi_line_report_is_still_one_report(tmp_path):
    f = tmp_path / 'reports.csv'
    f.write_text('id,report\n1,"Findings: heart normal, lungs clear.\nImpression: normal, no change."\n2,effusion\n')
    _, rows = read_csv_table(f, ('id', 'report'))
    assert [r['id'] for _, r in rows] == ['1', '2'] and 'Impression: normal, no change.' in rows[0][1]['report']


def test_a_cell_over_csvs_default_field_limit_is_read(tmp_path):
    "Was: _csv.Error: field larger than field limit (131072) in label, score and generate --input."
    f = tmp_path / 'long.csv'
    f.write_text('id,report\n1,' + 'the lungs are clear . ' * 8000 + '\n')
    assert len(read_predictions(f)['1']) > 131072
    assert len(read_reports(f)[0].text) > 131072


@pytest.mark.parametrize('marker', ['nan', 'None', 'NULL', ' NaN ', 'N/A'])
def test_missing_value_markers_are_not_reports(tmp_path, marker):
    "Was: `uar score` credited 'nan' as a No Finding report; `uar label` labelled it No Finding."
    assert is_missing(marker)
    f = tmp_path / 'p.csv'
    with open(f, 'w', newline='') as h: csv.writer(h).writerows([['id', 'report'], ['1', 'normal'], ['2', marker]])
    with pytest.raises(PredictionsError, match="empty prediction.*missing-value marker.*'2'"): read_predictions(f)
    assert [r.text for r in read_reports(f)] == ['normal', '']      # labelled blank everywhere, with a warning
    assert not is_missing('nan-ish nodule')


def test_labels_are_written_whole_or_not_at_all(tmp_path):
    "Was: kill -9 during `uar label --out` left a partial CSV at the final path, an existing one truncated."
    out = tmp_path / 'labels.csv'
    out.write_text('the labels of yesterday\n')
    bad = [{o: object() for o in ('No Finding',)}]                   # a label the writer cannot write: fails midway
    with pytest.raises(Exception): write_labels([ReportRow('1', None, 'x')], bad, out)
    assert out.read_text() == 'the labels of yesterday\n' and [p.name for p in tmp_path.iterdir()] == ['labels.csv']


def test_figure_names_of_distinct_study_ids_never_collide():
    "Was: ids 'a b', 'a_b' and 'a/b' all wrote a_b.png: one file left, showing another study."
    from uar_nb.inference import _safe_name
    names = [_safe_name(i) for i in ('a b', 'a_b', 'a/b', '..', '')]
    assert len(set(names)) == 5 and names[1] == 'a_b' and all('/' not in n and n not in ('.', '..') for n in names)


def _png16(path, a, sbit=None):
    "A 16-bit grayscale PNG of `a`, with an sBIT chunk of `sbit` significant bits (as DICOM exports write) when given."
    import struct, zlib
    from PIL import Image
    Image.fromarray(a.astype('uint16')).save(path)
    if sbit is None: return path
    raw = path.read_bytes()
    end = 8 + 4 + 4 + 13 + 4                                           # signature, IHDR
    chunk = struct.pack('>I', 1) + b'sBIT' + bytes([sbit]) + struct.pack('>I', zlib.crc32(b'sBIT' + bytes([sbit])))
    path.write_bytes(raw[:end] + chunk + raw[end:])
    return path


def test_12_bit_xrays_in_16_bit_pngs_are_scaled_by_their_bit_depth(tmp_path):
    "Was: scaled by 65535, pixel maximum 16 of 255 - a near-black film and the all-black image's report, no warning."
    import numpy as np, warnings
    from uar_nb.inference import ImageWarning, read_image
    from uar_nb.data import png_significant_bits
    ramp = np.linspace(0, 4095, 64 * 64).reshape(64, 64)
    assert read_image(_png16(tmp_path / 'a.png', ramp), 64).max() == 255              # no sBIT: 12 bits hold the maximum
    dark = ramp / 2                                                                   # a 12-bit film using half the range
    p = _png16(tmp_path / 'b.png', dark, sbit=12)
    assert png_significant_bits(p) == 12 and read_image(p, 64).max() == 127          # sBIT says 12: not stretched to 255
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        read_image(p, 64)                                                             # a real film: no warning
    with pytest.warns(ImageWarning, match='nearly black or flat'):
        read_image(_png16(tmp_path / 'c.png', np.full((64, 64), 3.0), sbit=16), 64)


# --- a trained tiny run, shared by the data-fingerprint and checkpoint-manifest tests ---------------------------------
TINY = {'model.d_model': 32, 'model.n_heads': 2, 'model.n_enc_layers': 1, 'model.n_dec_layers': 1, 'model.d_ff': 64,
        'model.basis_size': 64, 'lsu.kmeans_codes': 16, 'lsu.kmeans_max_patches': 1000, 'train.stage1_epochs': 1,
        'train.stage2_epochs': 1, 'train.max_steps_per_epoch': 2, 'decode.beam_size': 1, 'decode.max_len': 12,
        'train.test_meteor': False, 'train.quiet': True, 'train.device': 'cpu'}


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """(data folder, run folder, config) of a tiny UAR run on 40 toy studies, trained by `uar train` in its own process
    (training in the test process would leave allocations that test_bench's memory bound counts)."""
    from uar_nb.config import Config
    root = tmp_path_factory.mktemp('trained')
    subprocess.run(UAR + ['toy', '--out', str(root / 'data'), '--n', '40', '--seed', '1', '--quiet'], env=ENV, check=True)
    sets = [a for k, v in TINY.items() for a in ('--set', f'{k}={str(v).lower() if isinstance(v, bool) else v}')]
    r = subprocess.run(UAR + ['train', '--config', 'toy', '--variant', 'UAR', '--data', str(root / 'data'), '--run-dir',
                              str(root / 'run'), '--quiet', *sets], env=ENV, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return root / 'data', root / 'run', Config.from_yaml(root / 'run' / 'config.yaml')


def _copy(src, dst):
    import shutil
    shutil.copytree(src, dst)
    return dst


def test_a_finished_run_on_data_that_changed_since_is_not_reused(trained, tmp_path):
    "Was: only the config was compared - a finished run was reused (rc 0, the same table) on regenerated data."
    from uar_nb.config import ConfigError
    from uar_nb.train import train
    data, run, cfg = trained
    data2, run2 = _copy(data, tmp_path / 'data'), _copy(run, tmp_path / 'run')
    cfg2 = cfg.__class__.from_yaml(run / 'config.yaml'); cfg2.data.data_dir = str(data2); cfg2.to_yaml(run2 / 'config.yaml')
    assert train(cfg2, run2, resume=True)['test'] == json.loads((run / 'metrics.json').read_text())['test']   # same data
    ann = json.loads((data2 / 'annotation.json').read_text())
    ann['test'][0]['report'] = 'the heart is enlarged .'                                 # one test reference replaced
    (data2 / 'annotation.json').write_text(json.dumps(ann))
    with pytest.raises(ConfigError, match=f'was trained on other data than {data2} holds now'): train(cfg2, run2, resume=True)


def test_a_study_reruns_a_finished_run_whose_data_changed(trained, tmp_path):
    "Was: `uar study` skipped the finished run and rebuilt the same table on the new data."
    from uar_nb.study import load_study, changed_runs
    data, run, cfg = trained
    data2 = _copy(data, tmp_path / 'data')
    (tmp_path / 's.yaml').write_text(f'name: s\ndataset: toy\npreset: toy\ndata_dir: {data2}\nvariants: [UAR]\nseeds: [0]\n')
    st = load_study(tmp_path / 's.yaml')
    folder = tmp_path / 'study' / 'runs' / 'UAR-s0' / 'run'
    _copy(run, folder); st.config('UAR', 0).to_yaml(folder / 'config.yaml')
    assert changed_runs(st, tmp_path / 'study') == {}                                    # the data it was trained on
    img = sorted((data2 / 'images').rglob('*.png'))[0]
    img.write_bytes(img.read_bytes() + b'\0')                                           # one image changed
    why = changed_runs(st, tmp_path / 'study')['UAR-s0']
    assert why.startswith(f'trained on other data than {data2} holds now'), why


def test_every_file_a_checkpoint_loads_is_checksummed(trained, tmp_path):
    "Was: only model.safetensors was checked - two words swapped in tokenizer.json gave a wrong report with rc 0."
    data, run, cfg = trained
    run2 = _copy(run, tmp_path / 'run')
    best = run2 / 'checkpoints' / 'best'
    listed = json.loads((best / 'checksums.json').read_text())['sha256']
    assert {'config.yaml', 'tokenizer.json', 'model.safetensors', 'generation.json'} <= set(listed)
    assert any(f.startswith('image_tokenizer/') for f in listed)
    tok = json.loads((best / 'tokenizer.json').read_text())
    tok['tokens'][1], tok['tokens'][2] = tok['tokens'][2], tok['tokens'][1]
    (best / 'tokenizer.json').write_text(json.dumps(tok))
    ann = data / 'annotation.json'
    r = uar('generate', '--run', run2, '--input', ann, '--out', tmp_path / 'r.csv', '--device', 'cpu')
    assert r.returncode == 2 and 'tokenizer.json is not the file this folder was saved with' in r.stderr, r.stderr
    (best / 'checksums.json').unlink()                                                   # an older checkpoint: no manifest
    r = uar('generate', '--run', run2, '--input', ann, '--out', tmp_path / 'r.csv', '--device', 'cpu')
    assert r.returncode == 0, r.stderr


def test_generate_reads_view_columns_by_header_name(trained, tmp_path):
    "Was: columns read by position - a header id,lateral,frontal silently fed the lateral view as the frontal one."
    data, run, cfg = trained
    e = json.loads((data / 'annotation.json').read_text())['test'][0]
    front, side = (data / 'images' / p for p in e['image_path'])
    (tmp_path / 'ordered.csv').write_text(f'id,frontal,lateral\na,{front},{side}\n')
    (tmp_path / 'swapped.csv').write_text(f'lateral,id,frontal\n{side},a,{front}\n')
    for name in ('ordered', 'swapped'):
        r = uar('generate', '--run', run, '--input', tmp_path / f'{name}.csv', '--out', tmp_path / f'{name}-r.csv', '--device', 'cpu')
        assert r.returncode == 0, r.stderr
    assert (tmp_path / 'ordered-r.csv').read_text() == (tmp_path / 'swapped-r.csv').read_text()
    (tmp_path / 'unknown.csv').write_text(f'id,front,lateral\na,{front},{side}\n')
    r = uar('generate', '--run', run, '--input', tmp_path / 'unknown.csv', '--out', tmp_path / 'u.csv', '--device', 'cpu')
    assert r.returncode == 2 and "'front' are no view of the model" in r.stderr, r.stderr


def test_one_csv_reader_serves_label_score_and_generate():
    "Was: three readers (issue 26); now labeler, metrics and inference all use files.read_csv_table."
    from uar_nb import files, labeler, metrics, inference
    assert labeler.read_csv_table is metrics.read_csv_table is inference.read_csv_table is files.read_csv_table


def test_outputs_never_replace_the_input_or_a_users_file(trained, tmp_path):
    "Was: --out overwrote anything: the input itself, a dataset's annotation.json, a user's file."
    data, run, cfg = trained
    ann = _copy(data, tmp_path / 'data') / 'annotation.json'
    before = ann.read_bytes()
    r = uar('generate', '--run', run, '--input', ann, '--out', ann, '--overwrite', '--device', 'cpu')
    assert r.returncode == 2 and f'--out {ann} is the input {ann}' in r.stderr, r.stderr
    mine = tmp_path / 'notes.csv'; mine.write_text('my notes\n')
    r = uar('generate', '--run', run, '--input', ann, '--out', mine, '--device', 'cpu')
    assert r.returncode == 2 and 'already exists: pass --overwrite' in r.stderr and mine.read_text() == 'my notes\n', r.stderr
    reports = tmp_path / 'reports.csv'; reports.write_text('id,report\n1,"normal heart"\n')
    r = uar('label', '--input', reports, '--out', reports, '--overwrite')
    assert r.returncode == 2 and 'is the input' in r.stderr, r.stderr
    r = uar('label', '--input', reports, '--out', mine)
    assert r.returncode == 2 and mine.read_text() == 'my notes\n', r.stderr
    assert uar('label', '--input', reports, '--out', mine, '--overwrite').returncode == 0 and mine.read_text() != 'my notes\n'
    assert ann.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ['data', 'notes.csv', 'reports.csv']


def test_uar_toy_refuses_a_folder_with_other_files(tmp_path):
    "Was: `uar toy --out` into a folder with the user's README replaced it."
    (tmp_path / 'README.md').write_text('my project\n')
    r = uar('toy', '--out', tmp_path, '--n', '10', '--quiet')
    assert r.returncode == 2 and 'is not empty (README.md)' in r.stderr, r.stderr
    assert (tmp_path / 'README.md').read_text() == 'my project\n' and not (tmp_path / 'annotation.json').exists()


def test_formula_like_ids_are_escaped_and_read_back(tmp_path):
    "Was: ids beginning with = + - @ were written unescaped into output CSVs (spreadsheet formula injection)."
    from uar_nb.inference import write_reports
    from uar_nb.labeler import ReportRow, label_report, read_labels, write_labels
    ids = ['=cmd|"/c calc"!A1', '+1', '-2', '@SUM(A1)', 'plain']
    out = write_reports({i: 'normal .' for i in ids}, tmp_path / 'r.csv')
    cells = [row[0] for row in csv.reader(open(out, newline=''))][1:]
    assert cells == ["'" + i for i in ids[:4]] + ['plain']
    assert list(read_predictions(out)) == ids                                         # uar score reads the ids back
    write_labels([ReportRow(i, None, 'x') for i in ids], [label_report('normal .')] * 5, tmp_path / 'l.csv')
    assert [row[0] for row in csv.reader(open(tmp_path / 'l.csv', newline=''))][1] == "'" + ids[0]
    assert list(read_labels(tmp_path / 'l.csv')) == ids


def test_ignored_flags_are_named(tmp_path, trained):
    "Was: --split with a CSV, --words without --figures and --chexbert-weights with the rule labeler were ignored."
    data, run, cfg = trained
    (tmp_path / 's.csv').write_text('id,frontal,lateral\na,f.png,l.png\n')
    r = uar('generate', '--run', run, '--input', tmp_path / 's.csv', '--split', 'val', '--out', tmp_path / 'r.csv')
    assert r.returncode == 2 and '--split val applies to an annotation.json --input' in r.stderr, r.stderr
    r = uar('generate', '--run', run, '--input', tmp_path / 's.csv', '--words', 'effusion', '--out', tmp_path / 'r.csv')
    assert r.returncode == 2 and '--words picks the words drawn in --figures' in r.stderr, r.stderr
    r = uar('score', '--annotation', data / 'annotation.json', '--predictions', tmp_path / 's.csv', '--chexbert-weights', 'w.pth')
    assert r.returncode == 2 and '--chexbert-weights w.pth is used only by --ce-labeler chexbert' in r.stderr, r.stderr


def test_swapped_id_and_report_columns_are_refused(tmp_path):
    "Was: `--id-col report --report-col id` labelled every id No Finding without a word."
    f = tmp_path / 'r.csv'
    f.write_text('id,report\nCXR1_1_IMG,the heart is normal in size .\nCXR2_1_IMG,small left pleural effusion .\n')
    r = uar('label', '--input', f, '--out', tmp_path / 'l.csv', '--id-col', 'report', '--report-col', 'id')
    assert r.returncode == 2 and 'the columns look swapped' in r.stderr, r.stderr
    with pytest.raises(PredictionsError, match='the columns look swapped'): read_predictions(f, 'report', 'id')
    assert read_predictions(f)['CXR1_1_IMG'] == 'the heart is normal in size .'


def test_an_empty_beam_report_is_not_silent():
    "Was: beam search could print an empty report with rc 0."
    import numpy as np, warnings
    from uar_nb.inference import ReportWarning, _no_silent_empty

    class Gen:
        cfg = type('C', (), {'decode': type('D', (), {'beam_size': 3})})
        def __init__(self, greedy): self.greedy = greedy
        def generate_views(self, v, beam_size): return ['' if beam_size > 1 else self.greedy] * len(v)
    assert _no_silent_empty(Gen('heart normal .'), np.zeros((1, 2)), [''], ['a']) == ['heart normal .']
    with pytest.warns(ReportWarning, match="empty report.*'a'"): _no_silent_empty(Gen(''), np.zeros((1, 2)), [''], ['a'])


@pytest.mark.parametrize('text', ['Kein Pneumothorax', 'Pas de pneumothorax', 'Sin neumotórax.'])
def test_reports_that_are_not_english_are_not_labelled_findings(tmp_path, text):
    "Was: 'Kein Pneumothorax' / 'Pas de pneumothorax' -> Pneumothorax 1."
    from uar_nb.labeler import LabelerWarning, label_file, read_labels
    f = tmp_path / 'r.csv'
    with open(f, 'w', newline='') as h: csv.writer(h).writerows([['id', 'report'], ['de', text], ['en', 'No pneumothorax.']])
    with pytest.warns(LabelerWarning, match="do not look English.*'de'"): s = label_file(f, tmp_path / 'l.csv', progress=False)
    labels = read_labels(tmp_path / 'l.csv')
    assert set(labels['de'].values()) == {None} and labels['en']['Pneumothorax'] == 0 and s['not_english'] == 1


def test_label_accepts_what_score_accepts(tmp_path):
    "Was: `uar label` refused punctuation-only reports (what an undertrained model writes) and a BOM in annotation.json."
    f = tmp_path / 'r.csv'
    f.write_text('id,report\na,.\nb,normal .\n')
    assert uar('label', '--input', f, '--out', tmp_path / 'l.csv').returncode == 0
    assert read_predictions(f)['a'] == '.'
    a = tmp_path / 'annotation.json'
    a.write_bytes(b'\xef\xbb\xbf' + json.dumps({'test': [{'id': 'x', 'report': 'Clear lungs.'}]}).encode())
    r = uar('label', '--input', a, '--out', tmp_path / 'l2.csv')
    assert r.returncode == 0, r.stderr


def test_vague_messages_name_the_input_and_the_fix(trained, tmp_path):
    "Was: misleading advice - damaged checkpoint for a missing MPS, an internal lsu message, torch's size mismatch, ..."
    import numpy as np
    from PIL import Image
    data, run, cfg = trained
    e = json.loads((data / 'annotation.json').read_text())['test'][0]
    imgs = [data / 'images' / p for p in e['image_path']]
    r = uar('generate', '--run', run, '--images', *imgs, '--device', 'mps')                         # no MPS on this machine
    assert r.returncode == 2 and 'MPS (the Apple-silicon GPU) is not available' in r.stderr and 'damaged' not in r.stderr, r.stderr

    best = _copy(run / 'checkpoints' / 'best', tmp_path / 'no-itok')
    import shutil; shutil.rmtree(best / 'image_tokenizer'); (best / 'checksums.json').unlink()
    r = uar('generate', '--run', best, '--images', *imgs, '--device', 'cpu')
    assert r.returncode == 2 and 'has no image_tokenizer/' in r.stderr and 'embed_from_codebook' not in r.stderr, r.stderr

    other = _copy(run / 'checkpoints' / 'best', tmp_path / 'other-vocab')                            # another run's tokenizer
    tok = json.loads((other / 'tokenizer.json').read_text()); tok['tokens'] = tok['tokens'] + ['zzz1', 'zzz2']
    (other / 'tokenizer.json').write_text(json.dumps(tok)); (other / 'checksums.json').unlink()
    r = uar('generate', '--run', other, '--images', *imgs, '--device', 'cpu')
    assert r.returncode == 2 and 'does not fit the model that config.yaml and tokenizer.json describe' in r.stderr, r.stderr

    broken = _copy(run, tmp_path / 'broken-record')
    (broken / 'run.json').write_text('{"status": "compl')
    r = uar('generate', '--run', broken, '--images', *imgs, '--device', 'cpu')
    assert r.returncode == 2 and 'run.json is damaged' in r.stderr and 'never finished' not in r.stderr, r.stderr
    assert f'--run {broken / "checkpoints" / "best"}' in r.stderr

    big = tmp_path / 'big.png'                                                       # a PNG header saying 20000 x 20000
    import struct, zlib
    Image.new('L', (1, 1)).save(big)
    raw = bytearray(big.read_bytes()); ihdr = bytes(raw[12:16]) + struct.pack('>II', 20000, 20000) + bytes(raw[24:29])
    raw[12:33] = ihdr + struct.pack('>I', zlib.crc32(ihdr)); big.write_bytes(bytes(raw))
    r = uar('generate', '--run', run, '--images', big, imgs[1], '--device', 'cpu')
    assert r.returncode == 2 and 'too large to open safely' in r.stderr and 'truncated download' not in r.stderr, r.stderr


def test_a_single_stage_study_may_train_one_epoch(tmp_path):
    "Was: a BASE-only study with epochs: 1 was refused with the two-stage rule."
    from uar_nb.study import load_study, StudyError
    (tmp_path / 'b.yaml').write_text('dataset: toy\npreset: toy\ndata_dir: d\nvariants: [BASE]\nseeds: [0]\nepochs: 1\n')
    assert load_study(tmp_path / 'b.yaml').config('BASE', 0).train.epochs == 1
    (tmp_path / 'u.yaml').write_text('dataset: toy\npreset: toy\ndata_dir: d\nvariants: [BASE, UAR]\nseeds: [0]\nepochs: 1\n')
    with pytest.raises(Exception, match='a two-stage variant needs at least 2'): load_study(tmp_path / 'u.yaml')


def test_the_cli_parser_is_one_small_builder_per_subcommand():
    "Was: cli.build_parser was one 148-line function (issue 26); now one builder per subcommand."
    import inspect
    from uar_nb import cli
    names = ['toy', 'vocab', 'variants', 'train', 'score', 'label', 'study', 'publish', 'claims', 'generate', 'bench', 'tokenizer']
    assert all(len(inspect.getsource(getattr(cli, f'_parser_{n}')).splitlines()) <= 35 for n in names)
    assert len(inspect.getsource(cli.build_parser).splitlines()) <= 15
    sub = next(a for a in cli.build_parser()._actions if a.dest == 'command')
    assert list(sub.choices) == names


def test_a_study_restarts_a_partial_run_whose_data_changed(trained, tmp_path, monkeypatch):
    "A killed run is resumed by the next `uar study` - unless its data changed since: then it starts over, like a changed config."
    from uar_nb import study as S
    data, run, cfg = trained
    (tmp_path / 's.yaml').write_text(f'name: s\ndataset: toy\npreset: toy\ndata_dir: {data}\nvariants: [UAR]\nseeds: [0]\n')
    st = S.load_study(tmp_path / 's.yaml')
    folder = tmp_path / 'study' / 'runs' / 'UAR-s0' / 'run'
    (folder / 'checkpoints' / 'last').mkdir(parents=True); (folder / 'checkpoints' / 'last' / 'trainer_state.pt').write_bytes(b'x')
    st.config('UAR', 0).to_yaml(folder / 'config.yaml')
    seen = []
    monkeypatch.setattr(S, '_execute', lambda nb_in, nb_out, params, cwd: seen.append(params['resume']))
    from uar_nb.data import data_fingerprint
    (folder / 'run.json').write_text(json.dumps({'status': 'interrupted', 'data_fingerprint': data_fingerprint(st.config('UAR', 0))}))
    S.run_one(st, 'UAR', 0, tmp_path / 'study', nb_dir=tmp_path)
    (folder / 'run.json').write_text(json.dumps({'status': 'interrupted', 'data_fingerprint': 'sha256:0123'}))
    S.run_one(st, 'UAR', 0, tmp_path / 'study', nb_dir=tmp_path)
    assert seen == [True, False] and not folder.exists()
