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
