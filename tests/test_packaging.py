"""Set-up files agree with each other."""
import configparser, re, shlex
from pathlib import Path
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(req): return re.split(r'[<>=!~ \[]', req, 1)[0].lower().replace('_', '-')


def test_environment_yml_lists_the_settings_requirements():
    cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(ROOT / 'settings.ini')
    reqs = {_name(r) for r in shlex.split(cfg['DEFAULT']['requirements'])}
    env = yaml.safe_load((ROOT / 'environment.yml').read_text())
    conda, pip = set(), set()
    for dep in env['dependencies']:
        if isinstance(dep, dict): pip |= {_name(p) for p in dep['pip']}
        else: conda.add(_name(dep))
    listed = pip | {'torch' if c == 'pytorch' else c for c in conda}
    assert reqs - listed == set(), f'in settings.ini but not environment.yml: {reqs - listed}'
    assert (listed - {'python', 'pip', 'pytorch-cuda', 'openjdk'}) - reqs == set(), 'environment.yml lists extras'


def test_settings_keep_papermill_tags_and_test_flags():
    cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(ROOT / 'settings.ini')
    d = cfg['DEFAULT']
    assert d['allowed_cell_metadata_keys'].strip() == 'tags'
    assert set(d['tst_flags'].split()) == {'slow', 'gpu'}
    assert 'nbdev==2.4.14' in d['requirements']
    assert 'uar=uar_nb.cli:main' in d['console_scripts']
