"""Issue 26: one copy of each idea. Each test names the idea that used to be written more than once."""
import ast
import pytest
from pathlib import Path
import torch
from uar_nb.attention import attention
from uar_nb.cra import CRA
from uar_nb.tir import MaskedCrossAttention, TIRMask
from uar_nb.model import SelfAttention

LIB = Path(__file__).resolve().parents[1] / 'uar_nb'


def _calls(module: str) -> set[str]:
    "Names of the functions `module` calls (`F.softmax(...)` -> 'softmax')."
    tree = ast.parse((LIB / f'{module}.py').read_text())
    return {n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, 'id', '')
            for n in ast.walk(tree) if isinstance(n, ast.Call)}


def test_one_attention_core():
    "model.SelfAttention, CRA.attend and MaskedCrossAttention call `attention`; none computes attention itself."
    for mod in ('model', 'cra', 'tir'):
        calls = _calls(mod)
        assert 'attention' in calls, f'{mod} does not use uar_nb.attention.attention'
        assert not calls & {'scaled_dot_product_attention', 'softmax'}, f'{mod} computes attention itself: {calls & {"scaled_dot_product_attention", "softmax"}}'


def _heads(x, h): return x.unflatten(-1, (h, x.shape[-1] // h)).transpose(-3, -2)


def test_each_module_is_the_core_on_its_projections():
    torch.manual_seed(0)
    cra = CRA(16, 4, basis_size=10).eval()
    E = torch.randn(2, 5, 16)
    Bh = cra.basis_hat()
    for rw in (False, True):
        ref, w = attention(_heads(cra.q_proj(E), 4), _heads(cra.k_proj(Bh), 4), _heads(cra.v_proj(Bh), 4), return_weights=rw)
        got, attn = cra.attend(E, return_attention=rw)
        assert torch.equal(got, cra.out_proj(ref.transpose(1, 2).flatten(-2)))
        assert (attn is None) == (not rw) and (not rw or torch.equal(attn, w))
    x, mem = torch.randn(2, 3, 16), torch.randn(2, 7, 16)
    xa, tm = MaskedCrossAttention(16, 4).eval(), TIRMask(3, 7)
    bias = tm.bias(torch.arange(3), 7)
    for rw in (False, True):
        k, v = xa.project_memory(mem)
        mask = xa._attn_mask(3, 7, None, bias, x.dtype)
        ref, w = attention(_heads(xa.q_proj(x), 4), k, v, mask, return_weights=rw)
        got, wt = xa(x, mem, mask_bias=bias, return_weights=rw)
        assert torch.equal(got, xa.out_proj(ref.transpose(1, 2).flatten(-2)))
        assert not rw or torch.equal(wt, w)
    sa = SelfAttention(16, 4, causal=True).eval()
    q, k, v = (_heads(t, 4) for t in sa.qkv(x).chunk(3, -1))
    assert torch.equal(sa(x), sa.proj(attention(q, k, v, is_causal=True)[0].transpose(1, 2).flatten(-2)))


def test_attention_paths_agree_with_masks():
    "The fused path and the written-out one (weights returned) give the same output, masks included."
    torch.manual_seed(0)
    q, k, v = torch.randn(2, 3, 4, 8), torch.randn(2, 3, 6, 8), torch.randn(2, 3, 6, 8)
    keep = torch.tensor([[True] * 4 + [False] * 2])
    for kw in [{}, dict(attn_mask=torch.randn(4, 6)), dict(attn_mask=keep), dict(is_causal=True)]:
        fused, none = attention(q, k, v, **kw)
        full, w = attention(q, k, v, return_weights=True, **kw)
        assert none is None and torch.allclose(fused, full, atol=1e-5), kw
        assert torch.allclose(w.sum(-1), torch.ones(2, 3, 4))
    assert attention(q, k, v, attn_mask=keep, return_weights=True)[1][..., 4:].abs().sum() == 0


# --- option lists: defined once in config, imported by the modules that act on them --------------------------------

def test_option_lists_are_the_config_ones():
    "cra and tir use config's tuples (the same objects), and validate exactly those values."
    from uar_nb import config, cra, tir
    assert (cra.BASIS_KINDS, cra.BASIS_AFFINES, cra.FUSIONS, cra.NEGATIVES, tir.MASK_REDUCTIONS) == \
        (config.BASIS_KINDS, config.BASIS_AFFINES, config.FUSIONS, config.NEGATIVES, config.MASK_REDUCTIONS)
    assert cra.FUSIONS is config.CHOICES['model.fusion'] and tir.MASK_REDUCTIONS is config.CHOICES['model.mask_reduction']
    for kind in config.BASIS_KINDS: cra.make_basis(kind, 4, 2)
    for fusion in config.FUSIONS:
        for affine in config.BASIS_AFFINES: cra.CRA(8, 2, basis_size=4, fusion=fusion, basis_affine=affine)
    x = torch.randn(3, 4)
    for neg in config.NEGATIVES: cra.triplet_loss(x, x, negatives=neg)
    for red in config.MASK_REDUCTIONS: tir.TIRMask(2, 3).loss(red)
    import pytest
    with pytest.raises(ValueError, match='model.fusion'): cra.CRA(8, 2, basis_size=4, fusion='concat')
    with pytest.raises(ValueError, match='model.mask_reduction'): tir.TIRMask(2, 3).loss('max')
    with pytest.raises(ValueError, match='model.triplet_negatives'): cra.triplet_loss(x, x, negatives='soft')


def test_config_and_cli_refuse_what_the_modules_refuse():
    "Each switch's valid values in the config check are its tuple; `--set` on the command line lists them."
    import subprocess, sys
    from uar_nb.config import CHOICES, ConfigError, FUSIONS, get_config
    import pytest
    for key, values in CHOICES.items():
        for v in values: get_config('toy', None, {key: v})
        with pytest.raises(ConfigError, match=key.replace('.', r'\.')): get_config('toy', None, {key: 'bogus'})
    r = subprocess.run([sys.executable, '-m', 'uar_nb.cli', 'train', '--config', 'toy', '--variant', 'UAR', '--data', 'nowhere',
                        '--run-dir', 'nowhere', '--set', 'model.fusion=concat'], capture_output=True, text=True)
    assert r.returncode == 2 and f'valid values: {", ".join(FUSIONS)}' in r.stderr, r.stderr


def _string_tuples(module: str) -> list[tuple]:
    tree = ast.parse((LIB / f'{module}.py').read_text())
    return [tuple(e.value for e in n.elts) for n in ast.walk(tree)
            if isinstance(n, ast.Tuple) and len(n.elts) > 1 and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in n.elts)]


def test_no_module_repeats_an_option_list():
    from uar_nb.config import CHOICES
    lists = set(CHOICES.values())
    # lsu.VisualTokenEmbedding checks slot_norm against its own ('none', 'batch'): 03_lsu belongs to another change
    known = {('lsu', ('none', 'batch'))}
    copies = [(p.stem, t) for p in sorted(LIB.glob('*.py')) if p.stem not in ('config', '_modidx')
              for t in _string_tuples(p.stem) if t in lists and (p.stem, t) not in known]
    assert copies == [], f'option lists written again outside uar_nb/config.py: {copies}'


# --- UARModel readable in one place --------------------------------------------------------------------------------

UAR_METHODS = {'_as_batch', '_encode', '_visual_input', 'align', 'attention_map', 'cross_attentions', 'decode_features',
               'decode_step', 'encode', 'forward', 'from_pretrained', 'generate', 'generate_ids', 'global_features',
               'mask_bias', 'n_params', 'new_cache', 'param_groups', 'project_memory', 'save_pretrained', 'text_features',
               'visual_features', 'visual_grid'}


def test_uarmodel_methods_live_in_class_bodies():
    "Every method of UARModel is written in a class body of uar_nb/model.py (its steps' mixins): none is patched on."
    import inspect
    from uar_nb import model
    tree = ast.parse((LIB / 'model.py').read_text())
    in_bodies = {f.name for c in tree.body if isinstance(c, ast.ClassDef) for f in c.body if isinstance(f, ast.FunctionDef)}
    top_level = {f.name for f in tree.body if isinstance(f, ast.FunctionDef)}
    assert UAR_METHODS <= in_bodies and not UAR_METHODS & top_level, UAR_METHODS - in_bodies
    assert 'patch' not in {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    own = {n for n in dir(model.UARModel) if not hasattr(torch.nn.Module, n)} | {'forward'}
    assert own == UAR_METHODS, own ^ UAR_METHODS   # the public API of before
    for name in UAR_METHODS:
        owner = next(c for c in model.UARModel.__mro__ if name in c.__dict__)
        assert owner.__module__ == 'uar_nb.model' and owner is not torch.nn.Module, (name, owner)
    assert isinstance(inspect.getattr_static(model.UARModel, 'from_pretrained'), classmethod)
    assert isinstance(inspect.getattr_static(model.UARModel, 'visual_grid'), property)


# --- the image tokenizer kind: one table in lsu ---------------------------------------------------------------------

def test_tokenizer_kinds_are_one_table():
    "lsu.IMAGE_TOKENIZER_KINDS covers config's kinds; the model's grid before fitting is the fitted tokenizer's grid."
    import numpy as np
    from uar_nb.config import IMAGE_TOKENIZERS, get_config
    from uar_nb.lsu import IMAGE_TOKENIZER_KINDS, make_image_tokenizer, fit_settings_name
    from uar_nb.model import visual_token_shape
    assert tuple(IMAGE_TOKENIZER_KINDS) == IMAGE_TOKENIZERS
    images = np.random.default_rng(0).integers(0, 256, (6, 2, 32, 32), dtype=np.uint8)
    for kind, extra in [('kmeans', {'lsu.kmeans_codes': 8, 'lsu.kmeans_max_patches': 500}),
                        ('vq', {'lsu.vq_codes': 8, 'lsu.vq_dim': 4, 'lsu.vq_channels': 8, 'lsu.vq_steps': 2, 'lsu.patch_size': 8})]:
        cfg = get_config('toy', overrides={'lsu.image_tokenizer': kind, 'data.image_size': 32, **extra})
        tok = make_image_tokenizer(cfg, images)
        assert tok.kind == kind and visual_token_shape(cfg) == (tok.n_codes, tok.tokens_per_image(32))
        assert fit_settings_name(cfg).startswith(kind + '_')


def test_only_lsu_dispatches_on_the_tokenizer_kind():
    "No module but lsu compares `lsu.image_tokenizer` with a kind's name (bench's speed table builds its own on purpose)."
    found = []
    for p in sorted(LIB.glob('*.py')):
        if p.stem in ('lsu', '_modidx'): continue
        for n in ast.walk(ast.parse(p.read_text())):
            if (isinstance(n, ast.Compare) and isinstance(n.left, ast.Attribute) and n.left.attr == 'image_tokenizer'
                    and any(isinstance(c, (ast.Constant, ast.Tuple, ast.List)) and not (isinstance(c, ast.Constant) and c.value is None)
                            for c in n.comparators)):
                found.append(f'{p.stem}:{n.lineno}')
    assert found == [], found


# --- long units: score_predictions' settings as one dataclass ------------------------------------------------------

def test_score_predictions_takes_one_options_object(tmp_path):
    "ScoreOptions or its fields by keyword (the old call) give the same scores; a misspelt setting names the valid ones."
    import csv, json, pytest
    from uar_nb.metrics import ScoreOptions, score_predictions
    e = lambda i, r, s: dict(id=i, report=r, image_path=[f'{i}/0.png', f'{i}/1.png'], split=s)
    ann = {'train': [e('t1', 'The heart is normal. No effusion.', 'train'), e('t2', 'The lungs are clear.', 'train')],
           'val': [e('v1', 'The lungs are clear.', 'val')],
           'test': [e('a', 'The heart is normal.', 'test'), e('b', 'The lungs are clear.', 'test')]}
    (tmp_path / 'annotation.json').write_text(json.dumps(ann))
    with open(tmp_path / 'p.csv', 'w', newline='') as f:
        csv.writer(f).writerows([('study', 'text'), ('a', 'The heart is normal.'), ('b', 'The lungs are clear. No effusion.')])
    args = (tmp_path / 'annotation.json', tmp_path / 'p.csv')
    old = score_predictions(*args, split='test', id_col='study', report_col='text', threshold=1, meteor=False)
    new = score_predictions(*args, ScoreOptions(id_col='study', report_col='text', threshold=1, meteor=False))
    assert old == new and old['n'] == 2
    assert score_predictions(*args, ScoreOptions(id_col='study', report_col='text'), threshold=1, meteor=False) == old
    with pytest.raises(TypeError, match='unknown setting\\(s\\) metor; valid: split'): score_predictions(*args, metor=False)
    with pytest.raises(TypeError, match='options must be a ScoreOptions'): score_predictions(*args, 'test')


def test_toy_images_unchanged_by_the_split_of_render_frontal():
    """render_frontal and render_lateral in named steps (heart, findings, bones) draw the same films: the images and
    masks of 40 studies (every finding present) hash as they did before the split (commit 251e50e)."""
    import hashlib
    from uar_nb.toydata import make_study
    h, seen = hashlib.sha256(), set()
    for i in range(40):
        s = make_study(0, i)
        h.update(s.images.tobytes())
        for f, m in sorted(s.masks.items()): h.update(f.encode()); h.update(m.tobytes()); seen.add(f)
    assert len(seen) == 6
    assert h.hexdigest() == '016028713d493e57593a8aa9ea94dc5b31ef8ce0377f919b4ca1eca5070446ff'


# --- one atomic writer: files.atomic_open / atomic_path -------------------------------------------------------------

def test_only_files_renames_into_place():
    """The caches, checkpoints, fitted tokenizers and published studies are written through files.atomic_path: no other
    module renames a temporary file or folder into place by hand (os.replace / os.rename / tempfile.mkstemp)."""
    by_hand = []
    for p in sorted(LIB.glob('*.py')):
        if p.stem in ('files', '_modidx'): continue
        for n in ast.walk(ast.parse(p.read_text())):
            if (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)
                    and (n.func.value.id, n.func.attr) in {('os', 'replace'), ('os', 'rename'), ('tempfile', 'mkstemp')}):
                by_hand.append(f'{p.stem}.py:{n.lineno} {n.func.value.id}.{n.func.attr}')
    assert not by_hand, f'write through uar_nb.files.atomic_path instead: {by_hand}'


def test_atomic_path_swaps_a_folder_whole(tmp_path):
    from uar_nb.files import atomic_path
    dest = tmp_path / 'best'
    for v in ('v1', 'v2'):
        with atomic_path(dest) as tmp: tmp.mkdir(); (tmp / 'w').write_text(v)
    with pytest.raises(OSError):
        with atomic_path(dest) as tmp: tmp.mkdir(); (tmp / 'w').write_text('half'); raise OSError('disk full')
    with atomic_path(dest, keep_existing=True) as tmp: tmp.mkdir(); (tmp / 'w').write_text('v3')
    assert (dest / 'w').read_text() == 'v2' and [p.name for p in tmp_path.iterdir()] == ['best']
