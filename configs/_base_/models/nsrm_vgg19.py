# The paper's NSRM model (Fig. 5): VGG-19 up to conv4_4 (stride 8, 512
# channels, ImageNet weights), then the NSRMHead defaults: three 3x3 convs
# 512 -> 512 -> 512 -> 128 (the head's adapter) and 3 structure + 3 pose
# stages of five 7x7 convs at 128 channels. No flip test. Leaf configs add
# the head's `groups`, `loss` and `decoder` (and set num_structure_stages=0
# for the CPM baseline).
#
# ImageNet weights: convert torchvision's vgg19 file once with
#   python tools/convert_vgg_weights.py vgg19-dcbb9e9d.pth \
#       checkpoints/vgg19_imagenet_mmpose.pth
# or train from scratch with --cfg-options model.backbone.init_cfg=None
_base_ = ['./topdown_estimator.py']

model = dict(
    backbone=dict(
        type='VGG',
        depth=19,
        num_stages=4,
        dilations=(1, 1, 1, 1),
        out_indices=(3, ),
        with_last_pool=False,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/vgg19_imagenet_mmpose.pth')),
    head=dict(
        type='NSRMHead',
        in_channels=512,
        num_keypoints=21,
        num_structure_stages=3,
        num_pose_stages=3),
    test_cfg=dict(flip_test=False))
