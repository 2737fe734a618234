"""The README's config blocks are real: each builds, and a block that quotes
a config file is that file, so the README cannot drift from the code."""
import os.path as osp
import re

import pytest
from mmengine.config import Config
from mmpose.registry import MODELS, TRANSFORMS
from mmpose.utils import register_all_modules

import projects.nsrm  # noqa: F401
from projects.nsrm.testing import REPO

register_all_modules()


def readme_config_blocks():
    """(block index, text, quoted file or None) of every ```python block of
    README.md that is a config (it sets ``model`` or ``_base_``)."""
    with open(osp.join(REPO, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    blocks = []
    for i, m in enumerate(re.finditer(r'```python\n(.*?)```', readme, re.S)):
        text = m.group(1)
        if not re.search(r'^(model|_base_) = ', text, re.M):
            continue
        before = readme[:m.start()].split('\n\n')[-1]
        quoted = re.findall(r'`(configs/[^`]+\.py)`', before)
        blocks.append((i, text, quoted[0] if quoted else None))
    return blocks


BLOCKS = readme_config_blocks()


def test_the_readme_has_config_blocks():
    assert BLOCKS, 'README.md has no config block to check'


@pytest.mark.parametrize('index, text, quoted', BLOCKS,
                         ids=[f'block{b[0]}' for b in BLOCKS])
def test_readme_config_block_builds(index, text, quoted, tmp_path):
    if quoted:
        with open(osp.join(REPO, quoted), encoding='utf-8') as f:
            assert f.read() == text, f'README block {index} != {quoted}'
    path = tmp_path / f'readme_block_{index}.py'
    path.write_text(text)
    cfg = Config.fromfile(str(path))
    if cfg.model.get('backbone', {}).get('init_cfg'):
        cfg.model.backbone.init_cfg = None  # no download in tests
    model = MODELS.build(cfg.model)
    assert type(model.head).__name__ == 'NSRMHead'
    for t in cfg.train_dataloader.dataset.pipeline:
        TRANSFORMS.build(t)
    assert any(t['type'] == 'LimbMaskTarget'
               for t in cfg.train_dataloader.dataset.pipeline)
    assert any(h['type'] == 'LambdaDecayHook' for h in cfg.custom_hooks)
