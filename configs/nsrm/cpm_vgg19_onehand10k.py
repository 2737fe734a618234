# The CPM baseline on OneHand10K: the same VGG-19 backbone and adapter as
# lpm_g1_vgg19_onehand10k.py, 6 pose stages, no structure stages, no limb
# masks and no lambda decay (the sum-normalised pose loss of NSRMLoss, so its
# numbers compare with NSRM's). Without structure stages the head's `groups`
# and the loss's lambdas are unused and left at their defaults.
_base_ = [
    '../_base_/datasets/onehand10k_368.py',
    '../_base_/models/nsrm_vgg19.py',
]

model = dict(
    head=dict(
        num_structure_stages=0,
        num_pose_stages=6,
        loss=dict(type='NSRMLoss'),
        decoder=_base_.codec))

custom_hooks = []
