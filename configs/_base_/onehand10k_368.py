# OneHand10K with the paper's settings (Sec. 4.2): 368x368 inputs, 46x46
# heatmaps (sigma 1, MMPose's unbiased MSRAHeatmap), Adam with a constant
# learning rate of 1e-4, batch 32, 80 epochs, model selection by validation
# PCK. Model configs inherit from this file and add `model` and their targets.
# Difference from the paper: MMPose's top-down crop (GT box x 1.25) instead
# of resizing the whole image.
_base_ = ['mmpose::_base_/default_runtime.py']

custom_imports = dict(imports=['projects.nsrm'], allow_failed_imports=False)

train_cfg = dict(by_epoch=True, max_epochs=80, val_interval=1)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-4))
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(
    checkpoint=dict(save_best='PCK', rule='greater', max_keep_ckpts=2))

codec = dict(
    type='MSRAHeatmap', input_size=(368, 368), heatmap_size=(46, 46),
    sigma=1, unbiased=True)

dataset_type = 'NSRMOneHand10KDataset'
data_mode = 'topdown'
data_root = 'data/onehand10k/'

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomBBoxTransform', rotate_factor=180, scale_factor=(0.7, 1.3)),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/onehand10k_train.json',
        data_prefix=dict(img=''),
        pipeline=train_pipeline,
    ))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/onehand10k_test.json',
        data_prefix=dict(img=''),
        test_mode=True,
        pipeline=val_pipeline,
    ))
test_dataloader = val_dataloader

val_evaluator = [
    dict(type='PCKAccuracy', thr=0.2),
    dict(type='AUC'),
    dict(type='EPE'),
]
test_evaluator = val_evaluator
