"""Tests (evaluates) a checkpoint: MMPose's ``tools/test.py`` plus NSRM.

Same command line as MMPose's (``--work-dir``, ``--out``, ``--dump``,
``--show-dir``, ``--cfg-options``, ``--launcher``, ...). Checkpoints are read
with ``torch.load(weights_only=True)`` (see
``projects/nsrm/utils/safe_checkpoint.py``).

Example:
    python tools/test.py configs/nsrm/lpm_g1g6_synthetic_cpu.py \
        work_dirs/lpm_g1g6_synthetic_cpu/epoch_12.pth
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmengine  # noqa: E402
import projects.nsrm  # noqa: E402,F401  registers modules, safe checkpoints
from mmengine.hooks import Hook  # noqa: E402
from projects.nsrm.utils.runner_setup import (  # noqa: E402
    adapt_cfg_to_device, apply_switches, build_runner, close_process_group,
    load_config, load_mmpose_tool, silence_known_warnings)


class SaveMetricHook(Hook):
    """Writes the test metrics to ``--out``."""

    def __init__(self, out_file):
        self.out_file = out_file

    def after_test_epoch(self, runner, metrics=None):
        if metrics is not None:
            mmengine.dump(metrics, self.out_file)


def main():
    silence_known_warnings()
    tool = load_mmpose_tool('test')
    args = tool.parse_args()
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'Checkpoint file not found: {args.checkpoint}')
    cfg = tool.merge_args(load_config(args.config), args)
    apply_switches(cfg)
    adapt_cfg_to_device(cfg)
    runner = build_runner(cfg)
    if args.out:
        runner.register_hook(SaveMetricHook(args.out), 'LOWEST')
    runner.test()
    close_process_group()  # on success only: a failed rank must not wait


if __name__ == '__main__':
    main()
