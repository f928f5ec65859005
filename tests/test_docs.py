"""The start page and the website: README.md is what nbs/index.ipynb renders to, and the site builds with every
link and image in place (tools/readme.py, tools/docs.py; `make readme`, `make docs`)."""
import importlib.util, shutil, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name):
    spec = importlib.util.spec_from_file_location(f'tools_{name}', ROOT / 'tools' / f'{name}.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod


readme, docs = _tool('readme'), _tool('docs')


def test_readme_is_what_the_index_renders_to():
    assert readme.problems() == []


def test_readme_check_names_a_stale_readme_and_a_stale_table(tmp_path):
    stale = tmp_path / 'README.md'
    stale.write_text(readme.README.read_text().replace('## Reading path', '## Reading order'))
    (p,) = readme.problems(readme.INDEX, stale)
    assert 'README.md is not what nbs/index.ipynb renders to' in p and 'make readme' in p
    # the same index in a copy of the repo whose results table has changed since the index was run
    (tmp_path / 'nbs').mkdir(); shutil.copy(readme.INDEX, tmp_path / 'nbs' / 'index.ipynb')
    for table in readme.included_tables():
        dst = tmp_path / table.relative_to(ROOT); dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(table, dst)
    first = tmp_path / readme.included_tables()[0].relative_to(ROOT)
    first.write_text(first.read_text().replace('0.', '9.', 1))
    (p,) = readme.problems(tmp_path / 'nbs' / 'index.ipynb', readme.README)
    assert str(first) in p and 'changed since nbs/index.ipynb was last run' in p


def test_readme_links_point_from_the_repo_root():
    for nbs_link, root_link in [('03_lsu.ipynb', 'nbs/03_lsu.ipynb'), ('../docs/PROTOCOL.md', 'docs/PROTOCOL.md'),
                                ('experiments/train.ipynb#top', 'nbs/experiments/train.ipynb#top'),
                                ('https://arxiv.org/abs/2303.15932', 'https://arxiv.org/abs/2303.15932'), ('#set-up', '#set-up')]:
        assert readme.from_nbs_to_root(nbs_link) == root_link
    text = readme.README.read_text()
    assert '](../' not in text and 'src="../' not in text
    for target in readme.LINK.findall(text):
        path = target[1].split('#')[0]
        if path and '://' not in path: assert (ROOT / path).exists(), f'README.md links to a missing {path}'


def test_reading_path_lists_every_notebook_in_order():
    nav = docs.reading_path()
    listed = [d for _, items in nav for _, d in items]
    every = {str(p.relative_to(ROOT)) for p in docs.notebooks()} - {'nbs/index.ipynb'}
    assert every - set(listed) == set(), "add these notebooks to the reading path in nbs/index.ipynb"
    assert [c for c, _ in nav] == ['The paper', 'The method', 'Reference', 'Tooling']
    method = [Path(d).stem for _, d in nav[1][1]]
    assert method == ['tour', '03_lsu', '04_cra', '05_tir', '06_model', '09_train', '10_viz']


def test_site_links_to_files_it_does_not_carry_go_to_the_repository():
    text = '[a](03_lsu.ipynb) [b](../docs/PROTOCOL.md#metrics) [c](../studies/toy.yaml) [d](../Makefile#L3) [e](https://x.org)'
    out = docs.link_outside_the_site(text, 'nbs')
    url = docs.repo_url()
    assert url.startswith('https://github.com/') and url.endswith('/blob/main')
    assert out == (f'[a](03_lsu.ipynb) [b](../docs/PROTOCOL.md#metrics) [c]({url}/studies/toy.yaml) '
                   f'[d]({url}/Makefile#L3) [e](https://x.org)')


def test_link_check_finds_missing_files_images_and_anchors(tmp_path):
    (tmp_path / 'index.html').write_text('<a id="top"></a><a href="b.html#top">ok</a><a href="b.html#nope">x</a>'
                                         '<img src="fig.png"><a href="gone.html">y</a><a href="https://x.org/a">z</a>')
    (tmp_path / 'b.html').write_text('<h1 id="top">b</h1><a href="index.html#top">back</a>')
    problems = docs.broken_links(tmp_path)
    assert len(problems) == 3, problems
    assert any('missing anchor: b.html#nope' in p for p in problems)
    assert any('<img> points at a missing file: fig.png' in p for p in problems)
    assert any('missing file: gone.html' in p for p in problems)


def test_site_builds_with_working_links_and_images(tmp_path):
    "The whole site, as `make docs` builds it (about 30 s on one core): Sphinx warnings fail, then every link is checked."
    site = docs.make_site(tmp_path)
    for page in ['index.html', 'nbs/index.html', 'nbs/04_cra.html', 'docs/UAR_METHOD.html', 'api/cra.html']:
        assert (site / page).exists(), page
    start = (site / 'nbs' / 'index.html').read_text()
    assert 'href="03_lsu.html"' in start and 'href="../docs/PROTOCOL.html"' in start   # GitHub links became pages
    base_b1 = next(l for l in (ROOT / 'results/toy/table.md').read_text().splitlines() if l.startswith('| BASE')).split('|')[3].strip()
    assert '<table' in start and base_b1 in start                                       # the results table, as a table
    assert '<math' in (site / 'nbs' / '04_cra.html').read_text()                        # equations rendered (MathML)
    api = (site / 'api' / 'cra.html').read_text()
    assert 'uar_nb.cra.triplet_loss' in api and 'href="../nbs/04_cra.html"' in api
    assert 'Define the computation performed at every call' not in api                 # no torch docstrings


def test_lab_uses_the_kits_python(monkeypatch, tmp_path):
    "`make lab`: the notebooks' `python3` kernel is this environment's Python, even with a user kernel of that name."
    import json
    from jupyter_client.manager import KernelManager
    user = tmp_path / 'kernels' / 'python3'; user.mkdir(parents=True)
    (user / 'kernel.json').write_text(json.dumps({'argv': ['/usr/bin/python3', '-m', 'ipykernel_launcher', '-f',
                                                           '{connection_file}'], 'display_name': 'a user kernel', 'language': 'python'}))
    monkeypatch.setenv('JUPYTER_DATA_DIR', str(tmp_path))   # where a user's own kernels live
    monkeypatch.setenv('JUPYTER_PREFER_ENV_PATH', '1')      # what `make lab` sets
    assert KernelManager(kernel_name='python3').format_kernel_cmd()[0] == sys.executable
    monkeypatch.setenv('JUPYTER_PREFER_ENV_PATH', '0')      # without it the user's kernel would win
    assert KernelManager(kernel_name='python3').format_kernel_cmd()[0] == '/usr/bin/python3'
