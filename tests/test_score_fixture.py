"""Regression fixture for the R2Gen scorer (`uar_nb.metrics.score_predictions`).

No peer's released IU-Xray test outputs could be committed (the one found with published scores,
CvT2DistilGPT2's, has no licence), so the fixture is built here, deterministically, from the real IU-Xray
annotation (`../shared`; the test skips when it is absent): 40 test studies (38 by id + the 2 longest
reports, so reference truncation is exercised) and predictions made from them by fixed edits (identical,
last sentence dropped, another study's report, words swapped + an out-of-vocabulary word, a sentence
repeated past max_len). The expected scores are computed in this file WITHOUT the kit: an independent
re-implementation of the R2Gen cleaner/vocabulary (written from PROTOCOL.md) and pycocoevalcap called
directly. METEOR (one java start) is compared with the pinned value in fixtures/iu_edit40_scores.json,
which was computed the same direct way; the other metrics are also pinned there so that a change in
pycocoevalcap or in the cleaner shows up as a failure.
"""
import csv
import json
import math
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from uar_nb.metrics import METRIC_KEYS, PredictionsError, compute_scores, score_predictions

HERE = Path(__file__).parent
PINNED = HERE / 'fixtures' / 'iu_edit40_scores.json'

# --- an independent R2Gen IU-Xray cleaner + vocabulary (PROTOCOL.md), not the kit's ---
_PUNCT = re.compile(r'[.,?;*!%^&_+():-\[\]{}]')   # ':-\[' is a range, as in R2Gen


def ref_clean(report: str) -> str:
    t = report
    while '..' in t: t = t.replace('..', '.')
    t = t.replace('1. ', '')
    for k in '2345': t = t.replace(f'. {k}. ', '. ')
    for k in '2345': t = t.replace(f' {k}. ', '. ')
    sents = [_PUNCT.sub('', re.sub(r'["/\\\']', '', s).strip().lower()) for s in t.strip().lower().split('. ')]
    return ' . '.join(sents) + ' .'


def ref_vocab(train_reports, threshold=3):
    counts = Counter(w for r in train_reports for w in ref_clean(r).split())
    return sorted([w for w, c in counts.items() if c >= threshold] + ['<unk>'])


def ref_prepare(text, vocab, max_len=60):
    known = set(vocab)
    ids_words = ['<bos>'] + [w if w in known else '<unk>' for w in ref_clean(text).split()] + ['<eos>']
    return ' '.join(ids_words[:max_len][1:]).replace(' <eos>', '').replace('<eos>', '')


def direct_scores(gts, res, meteor=False):
    "pycocoevalcap called directly, as R2Gen's compute_scores does."
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge
    b, _ = Bleu(4).compute_score(gts, res, verbose=0)
    out = {f'BLEU_{i + 1}': b[i] for i in range(4)}
    if meteor:
        from pycocoevalcap.meteor.meteor import Meteor
        m = Meteor()
        out['METEOR'] = m.compute_score(gts, res)[0]
        m.meteor_p.stdin.close(); m.meteor_p.kill(); m.meteor_p.wait()
    out['ROUGE_L'] = Rouge().compute_score(gts, res)[0]
    out['CIDEr'] = Cider().compute_score(gts, res)[0]
    return out


# --- the fixture ---
def make_fixture(ann):
    test = sorted(ann['test'], key=lambda e: e['id'])
    longest = sorted(test, key=lambda e: -len(ref_clean(e['report']).split()))[:2]
    chosen = test[:38] + [e for e in longest if e not in test[:38]][:2]
    assert len(chosen) == 40
    refs = {e['id']: e['report'] for e in chosen}
    ids = list(refs)
    preds = {}
    for i, k in enumerate(ids):
        r = refs[k]
        sents = [s for s in r.split('. ') if s.strip()]
        if i % 5 == 0: p = r                                                        # identical
        elif i % 5 == 1: p = '. '.join(sents[:-1]) + '.' if len(sents) > 1 else r   # last sentence dropped
        elif i % 5 == 2: p = refs[ids[(i + 7) % len(ids)]]                          # another study's report
        elif i % 5 == 3:                                                            # swap words, add OOV + finding
            w = r.split(); w[0], w[1] = w[1], w[0]
            p = ' '.join(w) + ' Mild zyxwvu cardiomegaly.'
        else: p = ' '.join([sents[0].rstrip('.') + '.'] * 30)                       # far past max_len
        preds[k] = p
    sub = {'train': ann['train'], 'val': ann['val'][:1], 'test': chosen}
    return sub, refs, preds


@pytest.fixture
def fixture_files(iu_annotation, tmp_path):
    ann = json.loads(Path(iu_annotation).read_text())
    sub, refs, preds = make_fixture(ann)
    (tmp_path / 'annotation.json').write_text(json.dumps(sub))
    with open(tmp_path / 'pred.csv', 'w', newline='') as f:
        w = csv.writer(f); w.writerow(['id', 'report', 'model'])
        w.writerows([(k, v, 'edits') for k, v in preds.items()])
    vocab = ref_vocab([e['report'] for e in ann['train']])
    gts = {k: [ref_prepare(v, vocab)] for k, v in refs.items()}
    res = {k: [ref_prepare(v, vocab)] for k, v in preds.items()}
    return tmp_path, vocab, gts, res


def test_independent_vocab_matches_protocol(fixture_files):
    _, vocab, gts, res = fixture_files
    assert len(vocab) == 760                                   # PROTOCOL.md: 760 tokens on the real IU annotation
    assert max(len(v[0].split()) for v in gts.values()) == 59  # the longest references are truncated (60 ids incl. BOS)
    assert any('<unk>' in v[0] for v in res.values())


def test_score_predictions_equals_direct_pycocoevalcap(fixture_files):
    folder, _, gts, res = fixture_files
    ours = score_predictions(folder / 'annotation.json', folder / 'pred.csv', split='test', dataset='iu_xray',
                             meteor=shutil.which('java') is not None)
    direct = direct_scores(gts, res)
    pinned = json.loads(PINNED.read_text())
    assert ours['n'] == 40
    for k in ('BLEU_1', 'BLEU_2', 'BLEU_3', 'BLEU_4', 'ROUGE_L', 'CIDEr'):
        assert ours[k] == pytest.approx(direct[k], abs=1e-12), k
        assert round(ours[k], 6) == round(pinned[k], 6), k
    if shutil.which('java'):
        assert round(ours['METEOR'], 6) == round(pinned['METEOR'], 6)
    else:
        assert ours['METEOR'] is None
    print({k: None if ours[k] is None else round(ours[k], 4) for k in METRIC_KEYS})


def test_bleu1_by_hand():
    # corpus BLEU-1: 7 clipped unigram matches of 8 candidate words; r = 9, c = 8 -> BP = exp(1 - 9/8)
    refs = {'1': 'the heart is normal .', '2': 'no pleural effusion .'}
    hyps = {'1': 'the heart is enlarged .', '2': 'no effusion .'}
    s = compute_scores(refs, hyps, meteor=False)
    assert s['BLEU_1'] == pytest.approx(7 / 8 * math.exp(1 - 9 / 8), abs=1e-9)


def test_missing_ids_on_the_real_split(iu_annotation, tmp_path):
    ann = json.loads(Path(iu_annotation).read_text())
    p = tmp_path / 'p.csv'
    with open(p, 'w', newline='') as f:
        w = csv.writer(f); w.writerow(['id', 'report'])
        w.writerows([(e['id'], e['report']) for e in ann['test'][1:]])
    with pytest.raises(PredictionsError, match=r"1 of the 590 'test' ids have no prediction: '"):
        score_predictions(iu_annotation, p, meteor=False)
    with open(p, 'a', newline='') as f:
        csv.writer(f).writerow(['CXR_not_a_study', 'x'])
    with pytest.raises(PredictionsError, match=r"p\.csv: 1 prediction id\(s\) are not in the 'test' split.*CXR_not_a_study"):
        score_predictions(iu_annotation, p, meteor=False)
