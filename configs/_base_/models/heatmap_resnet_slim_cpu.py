# Stock MMPose top-down heatmap model on the slim CPU ResNet: a HeatmapHead
# with one 4x4 deconv (stride 8 -> 4) and MMPose's KeypointMSELoss. The leaf
# config adds `model.head.decoder`.
_base_ = ['./resnet_slim_cpu.py']

model = dict(
    head=dict(
        type='HeatmapHead',
        in_channels=64,
        out_channels=21,
        deconv_out_channels=(64, ),
        deconv_kernel_sizes=(4, ),
        loss=dict(type='KeypointMSELoss', use_target_weight=True)))
