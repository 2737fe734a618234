# NSRM "Real Mask ++" (Table 2): real_mask_synthetic_cpu.py with the paper's
# lambda schedule, lambda_g1 x 0.1 every 4 epochs of this 12-epoch schedule
# (x1, x0.1, x0.01 for 4 epochs each), as lpm_g1g6_synthetic_cpu.py decays
# (the paper: x 0.1 every 20 of its 80 epochs).
_base_ = ['./real_mask_synthetic_cpu.py']

custom_hooks = [dict(type='LambdaDecayHook', gamma=0.1, step=4)]
