# MMPose's default runtime plus what every top-down hand config here shares:
# the project's modules, checkpoint selection by validation PCK, the
# dataloader settings and MMPose's PCK/AUC/EPE evaluators.
# Dataset bases (datasets/*.py) inherit from it and add the codec, the
# pipelines, the dataset type and files, and the schedule; model bases
# (models/*.py) hold only `model`.
_base_ = ['mmpose::_base_/default_runtime.py']

custom_imports = dict(imports=['projects.nsrm'], allow_failed_imports=False)

# MMPose's inferencer reads `data_mode` and `dataset_type` from the config
data_mode = 'topdown'

# checkpoints a kill cannot corrupt (written to a temporary file, then
# renamed; the previous best removed only after the new one is complete);
# --resume checks the checkpoint against the model before loading anything;
# SyncBuffersHook is added when custom_hooks lacks it
runner_type = 'CrashSafeRunner'
default_hooks = dict(
    checkpoint=dict(
        type='CrashSafeCheckpointHook',
        save_best='PCK',
        rule='greater',
        max_keep_ckpts=2),
    # MMPose's PoseVisualizationHook, but merging the predictions with their
    # limb masks, so that --show-dir draws them (still enable=False here)
    visualization=dict(type='NSRMPoseVisualizationHook'))

# MMPose's visualizer plus the predicted limb masks beside the skeleton (G1
# over the image, the six G6 masks as a grid); exactly MMPose's drawing for a
# model without structure stages (CPM)
visualizer = dict(
    type='NSRMPoseLocalVisualizer',
    vis_backends=[dict(type='LocalVisBackend')],
    name='visualizer')

# the structure losses logged per iteration (not MMEngine's 50-iteration
# mean), so that a lambda decay shows at once; the lambdas are logged per
# iteration by LambdaDecayHook
log_processor = dict(custom_cfg=[
    dict(data_src='loss_structure_g1', method_name='current'),
    dict(data_src='loss_structure_g6', method_name='current'),
])

# --cfg-options tensorboard=True adds MMEngine's TensorboardVisBackend
# (tools/train.py, tools/test.py)
tensorboard = False

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

# the paper's PCK (0.10-0.30 of the tight keypoint box, their mean, and the
# visible / occluded split where the data flags both) beside MMPose's
val_evaluator = [
    dict(type='PCKAccuracy', thr=0.2),
    dict(type='AUC'),
    dict(type='EPE'),
    dict(type='MultiThresholdPCK', thresholds=(0.1, 0.15, 0.2, 0.25, 0.3)),
]
test_evaluator = val_evaluator
