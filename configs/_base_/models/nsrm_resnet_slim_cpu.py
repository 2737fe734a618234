# The NSRM cascade on the slim CPU ResNet, narrowed for a few minutes on 2 CPU
# cores: no adapter convs (F = the 64 backbone channels), 3 structure + 3 pose
# stages, first stages with a 128-channel hidden 1x1 conv, later stages of
# 3 convs of 5x5 at 48 channels (the paper: 5 x 7x7 at 128, see
# nsrm_vgg19.py). Leaf configs add the head's `groups`, `loss` and `decoder`
# (and set num_structure_stages=0 for the CPM baseline).
_base_ = ['./resnet_slim_cpu.py']

model = dict(
    head=dict(
        type='NSRMHead',
        in_channels=64,
        num_keypoints=21,
        num_structure_stages=3,
        num_pose_stages=3,
        feat_channels=64,
        adapter_channels=(),
        first_stage_channels=128,
        stage_channels=48,
        stage_kernel_size=5,
        num_stage_convs=3))
