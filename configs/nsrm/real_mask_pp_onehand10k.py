# "Real Mask ++" on OneHand10K (Table 2): real_mask_onehand10k.py with the
# paper's decayed schedule (lambda_1 x0.1 every 20 epochs).
_base_ = ['./real_mask_onehand10k.py']

custom_hooks = [_base_.lambda_decay]
