# Issue 10's study (README.md, "Does NSRM beat CPM, and where?"): the main job's CPM baseline
# on the built-in hands at the hard occlusion level, in the OneHand10K-like
# labelling regime (hidden keypoints unlabelled); cpm_hard_panoptic.py is the
# Panoptic-like regime. Run by tools/analysis/run_ablation.py with seeds
# 0 1 2; the protocol is fixed in the README.
_base_ = ['../nsrm/cpm_synthetic_cpu.py']

labelling = 'onehand10k'
occlusion = 'hard'
data_root = 'data/synthetic_hands_hard/'

# the bases resolved their dataloaders at parse time: override their fields
dataset = dict(data_root=data_root, labelling=labelling, occlusion=occlusion)
train_dataloader = dict(dataset=dataset)
val_dataloader = dict(dataset=dataset)
test_dataloader = dict(dataset=dataset)

# the study's budget: 4 epochs (about 7 minutes a run on 2 cores, 12 runs in
# about 90 minutes), validated every epoch for the learning curves; lr x 0.1
# for the last epoch; the last epoch is tested (no checkpoint selection on
# the validation images the study scores)
train_cfg = dict(max_epochs=4, val_interval=1)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=4, by_epoch=True, milestones=[3],
         gamma=0.1)
]
default_hooks = dict(checkpoint=dict(save_best=None))
