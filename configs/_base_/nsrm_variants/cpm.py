# The CPM baseline of the paper: the NSRM model's VGG-19 backbone and adapter
# with 6 pose stages and no structure stages, so no limb masks and no lambda
# decay (the leaf configs set custom_hooks = []). Its loss is NSRMLoss's
# sum-normalised pose term, so its numbers compare with NSRM's. Joined with a
# dataset base by configs/nsrm/cpm_*.py.
_base_ = ['../models/nsrm_vgg19.py']

model = dict(
    head=dict(
        num_structure_stages=0, num_pose_stages=6,
        loss=dict(type='NSRMLoss')))
