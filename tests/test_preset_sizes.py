"""A preset whose image size differs from the stored data's: the real-size iu_xray preset (112-px images, a 14x14 token
grid) trained and tested end to end on the synthetic studies (stored at 128 px, masks included)."""
import json
from uar_nb.study import SMOKE_OVERRIDES, smoke_data
from uar_nb.config import get_config, apply_overrides, parse_override
from uar_nb.train import train


def test_iu_xray_sizes_on_toy_data_train_and_score_the_pointing_game(tmp_path):
    data = smoke_data(tmp_path / 'toy', n=24)
    over = dict(parse_override(o) for o in SMOKE_OVERRIDES + ['data.dataset=toy', f'data.data_dir={data}',
                                                            'lsu.image_tokenizer=kmeans', 'data.num_workers=0'])
    cfg = apply_overrides(get_config('iu_xray', 'UAR'), over)
    assert cfg.data.image_size == 112 and json.loads((data / 'dataset.json').read_text())['image_size'] != 112
    m = train(cfg, tmp_path / 'run', quiet=True)           # was: "mask of 128x128 pixels does not split into a 14x14 grid"
    assert m['pointing']['reports'] == m['n_test'] > 0 and 'pointing_mask_off' in m
    rows = [json.loads(l) for l in (tmp_path / 'run' / 'test_reports.jsonl').read_text().splitlines()]
    assert all('pointing' in r and 'findings' in r for r in rows)
