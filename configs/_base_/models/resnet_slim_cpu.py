# A slim ResNet-18 backbone for CPU runs: the stem and the first 2 stages at
# half width (32 stem channels, stages of 32 and 64 channels), output stride
# 8 with 64 channels. It stops at stride 8 so that no layer goes unused (DDP).
# Flip test as MMPose's heatmap models. Head bases: heatmap_resnet_slim_cpu.py
# and nsrm_resnet_slim_cpu.py.
_base_ = ['./topdown_estimator.py']

model = dict(
    backbone=dict(
        type='ResNet',
        depth=18,
        num_stages=2,
        strides=(1, 2),
        dilations=(1, 1),
        out_indices=(1, ),
        stem_channels=32,
        base_channels=32),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))
