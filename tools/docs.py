"""The documentation website: the notebooks with their saved outputs, the method notes, and the API of uar_nb.

Built with Sphinx + MyST-NB (notebooks are rendered as saved, never executed) and the furo theme; the
navigation follows the reading path of nbs/index.ipynb. Three steps:

1. stage:  copy what the site shows into `_docs/src`, keeping the repository's layout (nbs/, docs/, results/),
           so every relative link that works on GitHub works on the site. nbdev's cell directives are honoured:
           `#| hide` drops a cell, `#| echo: false` shows only its output, the other `#|` lines are not shown.
           One API page per module of uar_nb (autodoc), linked to the notebook it is exported from.
2. build:  sphinx-build into `_docs/site`; every Sphinx warning fails the build (a broken link between
           notebooks, a missing image, a page outside the navigation, a docstring that does not parse).
3. check:  every local link, image, script and stylesheet of the built HTML exists, and every #anchor is there.

    python tools/docs.py                 # stage, build, check -> _docs/site/index.html
    python tools/docs.py --out DIR       # the same into DIR/src and DIR/site (the test builds into a temp dir)
"""
from __future__ import annotations
import argparse, html.parser, json, posixpath, re, shutil, subprocess, sys, time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / 'nbs'
OUT = ROOT / '_docs'
CONF = Path(__file__).resolve().parent / 'sphinx_conf.py'
DIRECTIVE = re.compile(r'^\s*#\s?\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')


# ---------------------------------------------------------------------------------------------- 1. stage
def notebooks() -> list[Path]:
    "Every notebook nbdev sees (folders starting with _ or . are skipped, as nbdev does)."
    return sorted(p for p in NBS.rglob('*.ipynb') if not any(s.startswith(('_', '.')) for s in p.relative_to(NBS).parts))


STAGED = ('nbs', 'docs', 'results')   # the folders the site carries; links to any other file go to the repository


def repo_url() -> str:
    import configparser
    ini = configparser.ConfigParser(delimiters=['=']); ini.read(ROOT / 'settings.ini')
    return f"{ini['DEFAULT']['git_url'].rstrip('/')}/blob/{ini['DEFAULT'].get('branch', 'main')}"


def link_outside_the_site(text: str, folder: str) -> str:
    "Markdown links from `folder` (e.g. 'nbs') to repository files the site does not carry point at the repository."
    def fix(m):
        target = m.group(2)
        if re.match(r'^([a-z][a-z0-9+.-]*:|#|/)', target, re.I): return m.group(0)
        path, _, anchor = target.partition('#')
        full = posixpath.normpath(posixpath.join(folder, path))
        if full.split('/')[0] in STAGED or full.startswith('..') or not (ROOT / full).exists(): return m.group(0)
        return f'{m.group(1)}{repo_url()}/{full}' + (f'#{anchor}' if anchor else '') + ')'
    return re.sub(r'(\]\()([^)\s]+)\)', fix, text)


def for_the_site(nb, folder: str = 'nbs'):
    "Apply nbdev's directives the way nbdev's own docs do: hidden cells go, directive lines are not shown."
    cells = []
    for cell in nb.cells:
        if cell.cell_type == 'markdown': cell.source = link_outside_the_site(cell.source, folder)
        if cell.cell_type == 'code':
            lines = cell.source.splitlines()
            d = {m.group(1): m.group(2) for m in map(DIRECTIVE.match, lines) if m}
            if 'hide' in d or d.get('include') == 'false': continue
            cell.source = '\n'.join(l for l in lines if not DIRECTIVE.match(l)).strip('\n')
            tags = list(cell.metadata.get('tags', []))
            if d.get('echo') == 'false': tags.append('remove-input')
            if d.get('output') == 'false': tags.append('remove-output')
            cell.metadata = {'tags': tags} if tags else {}
            if not cell.source.strip() and not cell.get('outputs'): continue  # e.g. the `#| default_exp` cell
        cells.append(cell)
    nb.cells = cells
    return nb


def reading_path(index: Path = NBS / 'index.ipynb') -> list[tuple[str, list[str]]]:
    """The sections of the index's '## Reading path' as (caption, [(title, document path from the repo root)]).

    Links before the first '###' (the paper notes) form a section 'The paper'; each '### N. Title' is one section."""
    nb = nbformat.read(index, as_version=4)
    text = '\n'.join(c.source for c in nb.cells if c.cell_type == 'markdown')
    m = re.search(r'^## Reading path\s*$(.*?)(?=^## |\Z)', text, re.M | re.S)
    if not m: raise SystemExit(f'{index.relative_to(ROOT)} has no "## Reading path" section: the site navigation is built from it')
    sections, caption, seen = [], 'The paper', set()
    for line in m.group(1).splitlines():
        h = re.match(r'^###\s+(?:\d+\.\s*)?(.+?)\s*$', line)
        if h: caption = h.group(1); continue
        bold = re.search(r'\*\*([^*]+)\*\*', line)  # '**LSU**, the ...' -> '03_lsu · LSU'
        for text, target in re.findall(r'\[([^\]]+)\]\(([^)#\s]+\.(?:ipynb|md))(?:#[^)]*)?\)', line):
            doc = posixpath.normpath(posixpath.join('nbs', target))
            if not (ROOT / doc).exists():
                raise SystemExit(f'the reading path in {index.relative_to(ROOT)} links to {doc}, which does not exist')
            if doc in seen: continue
            seen.add(doc)
            if not sections or sections[-1][0] != caption: sections.append((caption, []))
            title = (posixpath.basename(text) if target.endswith('.md') else text) + (f' · {bold.group(1)}' if bold else '')
            sections[-1][1].append((title, doc))
    return sections


def default_exp(nb_path: Path) -> str | None:
    nb = json.loads(nb_path.read_text())
    for c in nb['cells']:
        m = re.search(r'^\s*#\s?\|\s*default_exp\s+(\S+)', ''.join(c['source']), re.M)
        if c['cell_type'] == 'code' and m: return m.group(1)
    return None


def stage(src: Path) -> list[tuple[str, list[str]]]:
    "Lay out the site's sources in `src`; returns the navigation (caption, documents) it wrote into the index."
    if src.exists(): shutil.rmtree(src)
    (src / 'nbs').mkdir(parents=True)
    nav = reading_path()
    listed = {d for _, docs in nav for _, d in docs}
    rest = [(p.stem, str(p.relative_to(ROOT))) for p in notebooks()
            if str(p.relative_to(ROOT)) not in listed and p.relative_to(NBS) != Path('index.ipynb')]
    if rest: nav.append(('More notebooks', rest))  # a new notebook shows up even before the index lists it
    # the API, one page per module, in the order the reading path teaches the modules
    modules = []
    for _, docs in nav:
        for _, d in docs:
            mod = default_exp(ROOT / d) if d.endswith('.ipynb') else None
            if mod and mod not in [m for m, _ in modules]: modules.append((mod, d))
    (src / 'api').mkdir()
    for mod, nb in modules:
        (src / 'api' / f'{mod}.md').write_text(
            f'# uar_nb.{mod}\n\nExported from [{Path(nb).stem}](../{nb}), which teaches it with examples and tests.\n\n'
            f'```{{eval-rst}}\n.. automodule:: uar_nb.{mod}\n   :members:\n   :show-inheritance:\n```\n')
    (src / 'api' / 'index.md').write_text(
        '# API of uar_nb\n\nEvery module of the library, exported from the notebook named on its page, in reading '
        'order. Docstrings are one line, as in nbdev: the notebook is the long form.\n\n```{toctree}\n:maxdepth: 1\n\n'
        + ''.join(f'{mod}\n' for mod, _ in modules) + '```\n')
    nav.append(('API', [('uar_nb', 'api/index.md')]))
    # the notebooks, as the site shows them; the index also carries the navigation
    for p in notebooks():
        nb = for_the_site(nbformat.read(p, as_version=4), str(p.parent.relative_to(ROOT)))
        if p == NBS / 'index.ipynb':
            toc = ''.join(f'```{{toctree}}\n:hidden:\n:caption: {cap}\n\n' + ''.join(f'{t} </{Path(d).with_suffix("")}>\n' for t, d in docs)
                          + '```\n\n' for cap, docs in nav)
            nb.cells.append(nbformat.v4.new_markdown_cell(toc))
        dst = src / p.relative_to(ROOT); dst.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dst)
    for extra in ('docs', 'results'):  # the method notes, and the figures and tables notebooks link to
        if (ROOT / extra).exists():
            shutil.copytree(ROOT / extra, src / extra, ignore=shutil.ignore_patterns('*.ipynb', 'checkpoints', '*.pt'))
    for md in (src / 'docs').rglob('*.md'):
        md.write_text(link_outside_the_site(md.read_text(), str(md.parent.relative_to(src))))
    for f in NBS.rglob('*'):  # images etc. that notebooks reference from nbs/
        if f.is_file() and f.suffix.lower() in {'.png', '.jpg', '.jpeg', '.svg', '.gif'}:
            dst = src / f.relative_to(ROOT); dst.parent.mkdir(parents=True, exist_ok=True); shutil.copy2(f, dst)
    (src / 'conf.py').write_text(f'REPO = {str(ROOT)!r}\n' + CONF.read_text())
    (src / '_static').mkdir()
    shutil.copy2(CONF.parent / 'sphinx_custom.css', src / '_static' / 'custom.css')
    (src / '_extra').mkdir()
    (src / '_extra' / 'index.html').write_text(
        '<!DOCTYPE html><meta charset="utf-8"><title>uar-nb</title>'
        '<meta http-equiv="refresh" content="0; url=nbs/index.html"><a href="nbs/index.html">uar-nb</a>\n')
    return nav


# ---------------------------------------------------------------------------------------------- 2. build
def build(src: Path, site: Path, jobs: int = 1) -> None:
    "sphinx-build, every warning an error (all of them are listed, not just the first)."
    if site.exists(): shutil.rmtree(site)
    cmd = [sys.executable, '-m', 'sphinx', '-b', 'html', '-q', '-W', '--keep-going', '-j', str(jobs),
           '-d', str(site.parent / '.doctrees'), str(src), str(site)]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f'the site did not build cleanly (sphinx-build exit {r.returncode}); fix these in the '
                         f'notebooks or docs named (paths under {src}):\n{r.stderr.strip()}')


# ---------------------------------------------------------------------------------------------- 3. check
class _Refs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.refs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ('id', 'name'):
            if a.get(k): self.ids.add(a[k])
        for k in ('href', 'src'):
            if a.get(k) is not None and not (tag == 'a' and k == 'src'): self.refs.append((tag, a[k]))


def broken_links(site: Path) -> list[str]:
    "Every local href/src in the built site that points at no file, or at an #anchor the page lacks."
    pages, problems = {}, []
    for f in site.rglob('*.html'):
        p = _Refs(); p.feed(f.read_text(errors='replace')); pages[f.resolve()] = p
    for f, p in sorted(pages.items()):
        for tag, ref in p.refs:
            u = urlsplit(ref)
            if u.scheme or ref.startswith('//') or not (u.path or u.fragment): continue  # external, data:, mailto:
            target = (f.parent / unquote(u.path)).resolve() if u.path else f
            if target.is_dir(): target = target / 'index.html'
            where = f.relative_to(site.resolve())
            if not target.exists(): problems.append(f'{where}: <{tag}> points at a missing file: {ref}')
            elif u.fragment and target.suffix == '.html' and unquote(u.fragment) not in pages[target].ids:
                problems.append(f'{where}: <{tag}> points at a missing anchor: {ref}')
    if not (site / 'index.html').exists(): problems.append('the site has no index.html')
    return problems


def make_site(out: Path = OUT, jobs: int = 1) -> Path:
    t = time.time()
    src, site = out / 'src', out / 'site'
    stage(src); build(src, site, jobs)
    problems = broken_links(site)
    if problems: raise SystemExit('broken links or images in the built site:\n' + '\n'.join(problems))
    pages = len(list(site.rglob('*.html')))
    print(f'built {site}/index.html: {pages} pages, links and images checked, {time.time() - t:.0f} s')
    return site


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', type=Path, default=OUT, help='folder for src/ and site/ (default _docs)')
    ap.add_argument('--jobs', type=int, default=1, help='sphinx-build -j')
    args = ap.parse_args()
    make_site(args.out.resolve(), args.jobs)
