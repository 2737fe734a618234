"""MMPose's ``analyze_logs.py`` (``plot_curve``, ``cal_train_time``), run
from the installed mmpose so that users need not find it.

Example (a training's ``vis_data/scalars.json``)::

    python tools/analysis/analyze_logs.py plot_curve \
        work_dirs/lpm_g1g6_synthetic_cpu/*/vis_data/scalars.json \
        --keys loss_pose loss_structure_g1 --out curves.png
"""
import os.path as osp
import runpy
import sys

import matplotlib

import mmpose

if __name__ == '__main__':
    if '--out' in sys.argv:
        matplotlib.use('Agg')  # writing a file needs no display
    tool = osp.join(osp.dirname(mmpose.__file__), '.mim', 'tools',
                    'analysis_tools', 'analyze_logs.py')
    sys.argv[0] = tool
    runpy.run_path(tool, run_name='__main__')
