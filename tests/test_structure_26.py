"""Issue 26: one copy of each idea. Each test names the idea that used to be written more than once."""
import ast
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
