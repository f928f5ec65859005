"""README.md is rendered from nbs/index.ipynb (settings.ini `readme_nb`), the way `nbdev_readme` does it.

`nbdev_readme` needs quarto, which cannot be installed here, so this renders with nbconvert's markdown exporter
(installed with jupyterlab/papermill). nbdev's cell directives are honoured: `#| hide` drops a cell,
`#| echo: false` shows only its output, other `#|` lines are not shown. The index is written for its own folder,
nbs/, so relative links and images are rewritten for the repository root.

    python tools/readme.py           # write README.md from the saved notebook (`make readme` runs the notebook first)
    python tools/readme.py --check   # exit 1, saying what to do, when README.md or the index's tables are stale
"""
from __future__ import annotations
import argparse, posixpath, re, sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
INDEX = ROOT / 'nbs' / 'index.ipynb'
README = ROOT / 'README.md'
HEADER = '<!-- Generated from nbs/index.ipynb by `make readme`: edit the notebook, not this file. -->\n\n'
# A markdown link or image target, or an HTML src/href: rewritten when it is relative to nbs/.
LINK = re.compile(r'(\]\(|\b(?:src|href)=")([^)"\s]+)')
INCLUDE = re.compile(r"""include\(['"]([^'"]+)['"]\)""")


def directives(cell) -> dict:
    "nbdev's `#| key: value` lines of a code cell, e.g. {'hide': '', 'echo': 'false'}."
    out = {}
    for line in cell.source.splitlines():
        m = re.match(r'\s*#\|\s*([\w-]+)\s*:?\s*(.*)$', line)
        if m: out[m.group(1)] = m.group(2).strip()
    return out


def from_nbs_to_root(target: str) -> str:
    "A link written in nbs/ ('../docs/X.md', '03_lsu.ipynb#eq') as seen from the repository root."
    if re.match(r'^([a-z][a-z0-9+.-]*:|#|/)', target, re.I): return target  # URL, anchor or absolute path
    path, hash_, anchor = target.partition('#')
    return posixpath.normpath(posixpath.join('nbs', path)) + hash_ + anchor


def render(nb_path: Path = INDEX) -> str:
    "The README text for the saved notebook at `nb_path` (its outputs as saved: nothing is run here)."
    from nbconvert import MarkdownExporter
    nb = nbformat.read(nb_path, as_version=4)
    cells = []
    for cell in nb.cells:
        if cell.cell_type == 'code':
            d = directives(cell)
            if 'hide' in d or d.get('include') == 'false': continue
            if d.get('echo') == 'false': cell.metadata['transient'] = {'remove_source': True}
            cell.source = '\n'.join(l for l in cell.source.splitlines() if not l.lstrip().startswith('#|')).strip()
            if d.get('output') == 'false': cell.outputs = []
        cells.append(cell)
    nb.cells = cells
    body, _ = MarkdownExporter().from_notebook_node(nb)
    body = LINK.sub(lambda m: m.group(1) + from_nbs_to_root(m.group(2)), body)
    body = re.sub(r'\n{3,}', '\n\n', body).strip() + '\n'
    return HEADER + body


def included_tables(nb_path: Path = INDEX) -> list[Path]:
    "The files the index shows with `include(...)`, resolved from nbs/."
    nb = nbformat.read(nb_path, as_version=4)
    return [(nb_path.parent / p).resolve() for c in nb.cells if c.cell_type == 'code' for p in INCLUDE.findall(c.source)]


def problems(nb_path: Path = INDEX, readme: Path = README) -> list[str]:
    "Why README.md is not current (empty when it is)."
    out = []
    nb = nbformat.read(nb_path, as_version=4)
    saved = '\n'.join(o.get('data', {}).get('text/markdown', '') for c in nb.cells if c.cell_type == 'code'
                      for o in c.get('outputs', []))
    for table in included_tables(nb_path):
        rel = table.relative_to(ROOT) if table.is_relative_to(ROOT) else table
        if not table.exists(): out.append(f'nbs/index.ipynb includes {rel}, which does not exist')
        elif table.read_text().strip() not in saved:
            out.append(f'{rel} changed since nbs/index.ipynb was last run: run `make readme` and commit both files')
    if not readme.exists(): out.append('README.md is missing: run `make readme`')
    elif readme.read_text() != render(nb_path):
        out.append('README.md is not what nbs/index.ipynb renders to: edit the notebook (not README.md), '
                   'run `make readme` and commit both files')
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--check', action='store_true', help='only check that README.md is current')
    args = ap.parse_args(argv)
    if args.check:
        found = problems()
        for p in found: print(p, file=sys.stderr)
        return 1 if found else 0
    README.write_text(render())
    print(f'wrote {README.relative_to(ROOT)} from {INDEX.relative_to(ROOT)}')
    return 0


if __name__ == '__main__': sys.exit(main())
