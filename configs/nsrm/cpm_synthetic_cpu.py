# The CPM baseline of lpm_g1g6_synthetic_cpu.py: same backbone, cascade
# widths, data and schedule, 6 pose stages, no structure stages, no limb
# masks and no lambda decay (the sum-normalised pose loss of NSRMLoss, so its
# numbers compare with NSRM's). Without structure stages the head's `groups`
# and the loss's lambdas are unused and left at their defaults.
_base_ = [
    '../_base_/datasets/synthetic_hands_cpu.py',
    '../_base_/models/nsrm_resnet_slim_cpu.py',
]

model = dict(
    head=dict(
        num_structure_stages=0,
        num_pose_stages=6,
        loss=dict(type='NSRMLoss'),
        decoder=_base_.codec))

custom_hooks = []
