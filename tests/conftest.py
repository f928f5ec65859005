import os
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / 'shared'
IU_ANNOTATION = SHARED / 'data' / 'iu_xray' / 'annotation.json'

# Tests and notebooks never reach a hub: the kit is offline by default.
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')
os.environ.setdefault('MPLBACKEND', 'Agg')


@pytest.fixture
def iu_annotation():
    if not IU_ANNOTATION.exists(): pytest.skip('../shared/data/iu_xray/annotation.json is absent (a user clone)')
    return IU_ANNOTATION
