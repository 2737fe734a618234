# NSRM LDM-G1: LPM-G1 (./lpm_g1.py) with 0/1 rectangle masks (half width
# sigma_LDM = 1 heatmap pixel) and the paper's lambda_1 = 1.0.
_base_ = ['./lpm_g1.py']

structure_target = dict(mask_type='LDM')
model = dict(head=dict(loss=dict(lambda_g1=1.0)))
