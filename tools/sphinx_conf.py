# Sphinx configuration of the uar-nb website; tools/docs.py copies it into the staged sources as conf.py
# (and sets REPO above this line to the repository it stages).
import configparser, re
from docutils import nodes
from pathlib import Path

_ini = configparser.ConfigParser(delimiters=['=']); _ini.read(Path(REPO) / 'settings.ini')  # noqa: F821 (set by docs.py)
_cfg = _ini['DEFAULT']

project = 'uar-nb'
author = _cfg.get('author', 'uar-nb developers')
copyright = _cfg.get('copyright', author)
release = _cfg.get('version', '')

extensions = ['myst_nb', 'sphinx.ext.autodoc']
root_doc = 'nbs/index'                 # the start page is nbs/index.ipynb, README.md's source
exclude_patterns = ['results/**', '_extra/**', '**/.ipynb_checkpoints']   # results/*.md are tables, not pages
html_extra_path = ['_extra']           # index.html at the top that forwards to nbs/index.html
# Every other warning fails the build (tools/docs.py runs sphinx-build -W): a broken link, a missing image, a page
# outside the navigation, a docstring that does not parse. Not these two, which break nothing a reader sees:
# heading levels that skip one, and widget outputs (tqdm in Jupyter) that a static page cannot show.
suppress_warnings = ['myst.header', 'mystnb.unknown_mime_type']

nb_execution_mode = 'off'              # the site shows the outputs saved in the notebooks; it never runs them
nb_merge_streams = True
nb_render_markdown_format = 'myst'    # markdown outputs (the results tables) with tables, as GitHub shows them
myst_enable_extensions = ['dollarmath', 'amsmath']
myst_heading_anchors = 3               # '#two-commands'-style anchors, as GitHub makes them

autodoc_member_order = 'bysource'
autodoc_inherit_docstrings = False    # not torch's "Define the computation performed at every call" under each forward
default_role = 'code'                  # docstrings are nbdev's markdown: `name` means code

html_math_renderer = 'mathml'         # equations become MathML at build time: no script, no network (below)
html_theme = 'furo'
html_title = 'uar-nb'
html_static_path = ['_static']
html_css_files = ['custom.css']       # tools/sphinx_custom.css
html_show_sourcelink = False
html_copy_source = False


def _markdown_docstring(app, what, name, obj, options, lines):
    "nbdev docstrings are markdown: outside `code`, a | or a lone * is a character, not reST markup."
    text = '\n'.join(lines)
    parts = re.split(r'(`[^`]*`)', text)
    for i in range(0, len(parts), 2):
        p = parts[i].replace('|', r'\|')
        p = re.sub(r'(?<![*\w])(\*{1,2})(?=[^*\s])[^*\n]*?[^*\s]\1(?![*\w])|\*', lambda m: m.group(0) if m.group(1) else r'\*', p)
        parts[i] = p
    lines[:] = ''.join(parts).split('\n')


def _mathml(latex: str, display: str, where) -> str:
    from latex2mathml.converter import convert
    try:  # |x| and ||x||: bars hug what they enclose (as in TeX), not spaced like a relation
        return re.sub(r'<mo((?: (?:fence|stretchy)="\w+")*)>(&#x0007C;|&#x02016;)</mo>',
                      r'<mo\1 lspace="0em" rspace="0em">\2</mo>', convert(latex, display=display))
    except Exception as e:  # a warning fails the build and names the page; MathJax would have rendered it
        from sphinx.util import logging
        logging.getLogger(__name__).warning(f'latex2mathml cannot convert {latex!r}: {e}', location=where)
        return f'<code>{latex}</code>'


def _visit_inline(self, node):
    self.body.append(_mathml(node.astext(), 'inline', node)); raise nodes.SkipNode


def _visit_block(self, node):
    latex = node['latex'] if node['nowrap'] else node.astext()
    if node.get('number'):
        self.body.append(f'<span class="eqno">({node["number"]})</span>')
    self.body.append(f'<div class="math">{_mathml(latex, "block", node)}</div>'); raise nodes.SkipNode


def setup(app):
    app.connect('autodoc-process-docstring', _markdown_docstring)
    app.add_html_math_renderer('mathml', (_visit_inline, None), (_visit_block, None))
