# NSRM, LPM-G1&6, on the built-in synthetic hands, sized for a few minutes on
# 2 CPU cores: the baseline's slim ResNet (stride 8) and a narrower cascade
# (3 structure + 3 pose stages, 3 convs of 5x5 at 48 channels instead of
# 5 x 7x7 at 128). The paper's full model: lpm_g1g6_vgg19_*.py.
_base_ = ['../baseline/heatmap_resnet_synthetic_cpu.py']

# limb masks: LPM, G1&6, sigma_LPM = 1 heatmap pixel; the paper's lambdas
limb_masks = dict(mask_type='LPM', groups='G1&6', sigma=1.0)
lambdas = dict(lambda_g1=0.1, lambda_g6=0.02)

codec = _base_.codec
model = dict(
    head=dict(
        _delete_=True,
        type='NSRMHead',
        in_channels=64,
        num_keypoints=21,
        groups=limb_masks['groups'],
        num_structure_stages=3,
        num_pose_stages=3,
        feat_channels=64,
        adapter_channels=(),
        first_stage_channels=128,
        stage_channels=48,
        stage_kernel_size=5,
        num_stage_convs=3,
        loss=dict(type='NSRMLoss', **lambdas),
        decoder=codec))

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

# lambdas x 0.1 every 4 epochs: the paper's 4 decays over 80 epochs, scaled
# to this 12-epoch schedule
custom_hooks = [dict(type='LambdaDecayHook', gamma=0.1, step=4)]
