"""The data layer against the real IU-Xray annotation (../shared): PROTOCOL.md's numbers must come out exactly.

Skips cleanly in a user clone, where ../shared/data/iu_xray/annotation.json is absent (fixture `iu_annotation`)."""
import json
import pytest
from uar_nb.data import Tokenizer, clean_report, encoded_lengths, load_annotation, vocab_stats


@pytest.fixture
def iu(iu_annotation):
    return load_annotation(iu_annotation, 'iu_xray')


def test_split_sizes(iu):
    assert {k: len(v) for k, v in iu.items()} == dict(train=2069, val=296, test=590)
    assert all(len(e['image_path']) == 2 for s in iu.values() for e in s)


def test_vocab_stats_match_protocol(iu_annotation):
    st = vocab_stats(iu_annotation, 'iu_xray')
    assert (st['vocab_size'], st['n_logits'], st['threshold'], st['max_len']) == (760, 761, 3, 60)
    assert (st['n_train'], st['n_val'], st['n_test']) == (2069, 296, 590)
    assert round(st['frac_train_truncated'], 3) == 0.086 and round(st['frac_test_truncated'], 3) == 0.056
    assert round(st['frac_train_truncated_words'], 3) == 0.074 and round(st['frac_test_truncated_words'], 3) == 0.046
    assert abs(st['mean_len_train'] - 38.4) < 0.06 and abs(st['mean_len_test'] - 34.5) < 0.06
    json.dumps(st)  # what `uar vocab` prints


def test_vocab_from_train_only(iu):
    tok = Tokenizer.build([e['report'] for e in iu['train']], 3, 'iu_xray')
    assert len(tok) == tok.vocab_size == 760 and tok.tokens == sorted(tok.tokens) and '<unk>' in tok.tokens
    assert tok.token2id[tok.tokens[0]] == 1 and tok.pad_id == 0
    # the '-' quirk is visible in the real vocabulary: hyphenated words survive as tokens
    assert any('-' in t for t in tok.tokens)
    allv = Tokenizer.build([e['report'] for s in iu.values() for e in s], 3, 'iu_xray')
    assert len(allv) > len(tok)  # building from all splits would leak test words


def test_round_trip(iu, tmp_path):
    tok = Tokenizer.build([e['report'] for e in iu['train']], 3, 'iu_xray')
    tok.save(tmp_path / 'vocab.json')
    tok2 = Tokenizer.load(tmp_path / 'vocab.json')
    for e in iu['test'][:200]:
        ids = tok2.encode(e['report'])
        assert ids == tok.encode(e['report']) and ids[0] == 0 and ids[-1] == 0
        dec = tok2.decode(ids)
        # decoding reproduces the cleaned report wherever every word is in the vocabulary
        clean = clean_report(e['report'], 'iu_xray')
        assert dec == ' '.join(w if w in tok.token2id else '<unk>' for w in clean.split())
        assert tok2.decode(tok2.encode(e['report'], max_len=60)) == ' '.join(dec.split()[:59])


def test_truncation_counts_bos_eos(iu):
    tok = Tokenizer.build([e['report'] for e in iu['train']], 3, 'iu_xray')
    lens = encoded_lengths(tok, [e['report'] for e in iu['test']])
    assert int((lens > 60).sum()) == 33  # 5.6% of 590
    assert all(len(tok.encode(e['report'], 60)) == min(60, n) for e, n in zip(iu['test'], lens))
