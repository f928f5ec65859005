"""The saved-outputs check itself (tests/nb_outputs.py): what it ignores and what it catches, without running notebooks."""
import base64, io
from nb_outputs import compare_cell, normalise, saveable, texts_agree, png_size, _strip_progress


def stdout(text): return {'output_type': 'stream', 'name': 'stdout', 'text': text.splitlines(True)}


def figure(w, h):
    from PIL import Image
    buf = io.BytesIO(); Image.new('RGBA', (w, h), 'white').save(buf, 'png')
    return {'output_type': 'display_data', 'metadata': {}, 'data': {
        'image/png': base64.b64encode(buf.getvalue()).decode(), 'text/plain': ['<Figure size 640x480 with 1 Axes>']}}


def test_run_to_run_noise_is_ignored():
    assert normalise('took 3.2 s at /tmp/tmpab12/x.json, <Obj at 0x7f1234abcd>') == 'took <duration> at <tmp>, <Obj at <address>>'
    assert texts_agree('tensor([ 0.1234, -0.0000])', 'tensor([0.1235, 0.0000])')   # last digit, sign of zero, padding
    assert texts_agree('beta moves it by 3.73e-09', 'beta moves it by 4.10e-09')    # below ABS_TOL
    assert texts_agree('568.1 reports/s (x3.8)', '96.0 reports/s (x1.2)', vary='numbers')


def test_real_changes_are_caught():
    assert not texts_agree('loss 0.612', 'loss 0.650')
    assert not texts_agree('n=3 studies', 'n=4 studies')              # integers are exact
    assert not texts_agree('mean |cos| 0.0265', 'max |cos| 0.0265')
    assert compare_cell([stdout('a 1.0\n')], [stdout('a 1.0\n')]) == []
    assert 'number or kind' in compare_cell([stdout('a\n')], [stdout('a\n'), figure(10, 10)])[0]
    assert any('figure size' in p for p in compare_cell([figure(400, 300)], [figure(420, 300)]))
    assert compare_cell([figure(400, 300)], [figure(401, 300)]) == []  # figures by size, within IMAGE_PX_TOL
    # a trained model's figure: its tick labels (numbers) may set another width; still one figure where one was
    assert compare_cell([figure(232, 205)], [figure(238, 205)], vary='numbers') == []
    assert 'number or kind' in compare_cell([figure(232, 205)], [stdout('a\n')], vary='numbers')[0]


def test_saved_outputs_drop_progress_bars_and_keep_figures_small():
    bar = 'start\n\r  0%|          | 0/10 [00:00<?, ?it/s]\r100%|##########| 10/10 [00:02<00:00, 4.2it/s]\ndone\n'
    assert _strip_progress(bar) == 'start\ndone\n'
    stderr = {'output_type': 'stream', 'name': 'stderr', 'text': ['\r100%|##########| 3/3 [00:00<00:00, 12.3it/s]\n']}
    fig = figure(300, 200)
    out = saveable([stderr, fig])
    assert len(out) == 1 and png_size(out[0]['data']['image/png']) == (300, 200)
    assert len(out[0]['data']['image/png']) <= len(fig['data']['image/png'])


def test_figure_dpi_directive_sharpens_one_cell(tmp_path):
    "`#| figure_dpi: 144` draws that cell's figures at 144 dpi; the next cell is back at the compact 72."
    import json, pytest
    from nb_outputs import execute, figure_dpi
    from types import SimpleNamespace
    cell = lambda src: {'cell_type': 'code', 'execution_count': None, 'id': f'c{len(src)}', 'metadata': {}, 'outputs': [],
                        'source': src}
    fig = 'import matplotlib.pyplot as plt\nplt.figure(figsize=(2, 1)); plt.plot([0, 1]); plt.show()'
    nb = {'cells': [cell('#| figure_dpi: 144\n' + fig), cell(fig + '\n')], 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}
    (tmp_path / 'f.ipynb').write_text(json.dumps(nb))
    ran, err = execute(tmp_path / 'f.ipynb')
    assert err is None, err
    sizes = [png_size(''.join(o['data']['image/png'])) for c in ran.cells for o in c.outputs if 'image/png' in o.get('data', {})]
    (w1, h1), (w0, h0) = sizes                                # tight bounding boxes: about, not exactly, 2x
    assert abs(w1 - 2 * w0) <= 6 and abs(h1 - 2 * h0) <= 6, sizes
    with pytest.raises(ValueError, match='whole number of dpi from 50 to 200'):
        figure_dpi(SimpleNamespace(directives_={'figure_dpi:': ['600']}, source='#| figure_dpi: 600'))
