# The CPM baseline on OneHand10K: the same VGG-19 backbone and 6 pose stages,
# no structure stages and no limb masks (the sum-normalised pose loss of
# NSRMLoss, so its numbers compare with NSRM's).
_base_ = ['./lpm_g1_vgg19_onehand10k.py']

train_pipeline = _base_.train_pipeline[:-2] + _base_.train_pipeline[-1:]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
model = dict(head=dict(num_structure_stages=0, num_pose_stages=6))
custom_hooks = []
