# The CPM baseline of lpm_g1g6_synthetic_cpu.py: same backbone, data and
# schedule, 6 pose stages, no structure stages and no limb masks.
_base_ = ['./lpm_g1g6_synthetic_cpu.py']

train_pipeline = _base_.train_pipeline[:-2] + _base_.train_pipeline[-1:]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
model = dict(head=dict(num_structure_stages=0, num_pose_stages=6))
custom_hooks = []
