import os
from pathlib import Path
import pytest
from nb_outputs import OFFLINE_ENV

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / 'shared'
IU_ANNOTATION = SHARED / 'data' / 'iu_xray' / 'annotation.json'

# Tests and notebooks never reach a hub: the kit is offline by default (the same environment as `make outputs`).
for _k, _v in OFFLINE_ENV.items(): os.environ.setdefault(_k, _v)


@pytest.fixture
def iu_annotation():
    if not IU_ANNOTATION.exists(): pytest.skip('../shared/data/iu_xray/annotation.json is absent (a user clone)')
    return IU_ANNOTATION
