# NSRM LPM-G1 on OneHand10K, the paper's model (Fig. 5): VGG-19 up to
# conv4_4 (ImageNet weights), three 3x3 convs to 128 channels (the head's
# adapter), 3 structure + 3 pose stages of five 7x7 convs, lambda_1 = 0.5
# decayed x0.1 every 20 epochs.
#
# ImageNet weights: convert torchvision's vgg19 file once with
#   python tools/convert_vgg_weights.py vgg19-dcbb9e9d.pth \
#       checkpoints/vgg19_imagenet_mmpose.pth
# or train from scratch with --cfg-options model.backbone.init_cfg=None
_base_ = ['../_base_/onehand10k_368.py']

limb_masks = dict(mask_type='LPM', groups='G1', sigma=1.0)
lambdas = dict(lambda_g1=0.5, lambda_g6=0.0)

codec = _base_.codec
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
        groups=limb_masks['groups'],
        num_structure_stages=3,
        num_pose_stages=3,
        loss=dict(type='NSRMLoss', **lambdas),
        decoder=codec),
    test_cfg=dict(flip_test=False))

train_pipeline = [
    *_base_.train_pipeline[:-1],
    dict(
        type='LimbMaskTarget',
        input_size=codec['input_size'],
        heatmap_size=codec['heatmap_size'],
        **limb_masks),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

custom_hooks = [dict(type='LambdaDecayHook', gamma=0.1, step=20)]
