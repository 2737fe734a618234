# What every top-down hand config here shares: MMPose's default runtime, the
# project's modules, the estimator and its data preprocessor, dataloader
# settings and MMPose's PCK/AUC/EPE evaluators.
# Dataset bases (synthetic_hands_cpu.py, onehand10k_368.py) inherit from it
# and add the codec, the pipelines, the dataset type and files, and the
# schedule.
_base_ = ['mmpose::_base_/default_runtime.py']

custom_imports = dict(imports=['projects.nsrm'], allow_failed_imports=False)

# MMPose's inferencer reads `data_mode` and `dataset_type` from the config
data_mode = 'topdown'

# top-down models with ImageNet normalisation; model configs add the
# backbone, the head and test_cfg
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True))

default_hooks = dict(
    checkpoint=dict(save_best='PCK', rule='greater', max_keep_ckpts=2))

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(data_mode=data_mode))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(data_mode=data_mode, test_mode=True))
test_dataloader = val_dataloader

val_evaluator = [
    dict(type='PCKAccuracy', thr=0.2),
    dict(type='AUC'),
    dict(type='EPE'),
]
test_evaluator = val_evaluator
