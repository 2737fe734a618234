# Stock MMPose top-down heatmap model (a slim 2-stage ResNet + HeatmapHead)
# on the built-in synthetic hands, CPU-sized: the reference NSRM is compared
# with. The backbone stops at stride 8 so that no layer goes unused (DDP).
_base_ = ['../_base_/synthetic_hands_cpu.py']

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
    head=dict(
        type='HeatmapHead',
        in_channels=64,
        out_channels=21,
        deconv_out_channels=(64, ),
        deconv_kernel_sizes=(4, ),
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder={{_base_.codec}}),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))
