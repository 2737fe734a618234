"""Trains a pose model: MMPose's ``tools/train.py`` plus NSRM's modules.

Same command line as MMPose's (``--work-dir``, ``--resume``, ``--amp``,
``--no-validate``, ``--cfg-options``, ``--launcher``, ...). Runs from the
repository root with nothing set by hand; on a machine without CUDA it uses
gloo for distributed runs.

Example:
    python tools/train.py configs/nsrm/lpm_g1g6_synthetic_cpu.py
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import projects.nsrm  # noqa: E402,F401  registers modules, safe checkpoints
from projects.nsrm.utils.runner_setup import (  # noqa: E402
    adapt_cfg_to_device, apply_switches, build_runner, check_pretrained_files,
    close_process_group, load_config, load_mmpose_tool,
    silence_known_warnings)


def main():
    silence_known_warnings()
    tool = load_mmpose_tool('train')
    args = tool.parse_args()
    cfg = tool.merge_args(load_config(args.config), args)
    if 'preprocess_cfg' in cfg:
        cfg.model.setdefault('data_preprocessor', cfg.get('preprocess_cfg', {}))
    apply_switches(cfg)
    check_pretrained_files(cfg)
    adapt_cfg_to_device(cfg)
    build_runner(cfg).train()
    close_process_group()  # on success only: a failed rank must not wait


if __name__ == '__main__':
    main()
