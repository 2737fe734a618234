# NSRM LDM-G1&6: LPM-G1&6 (./lpm_g1g6.py) with 0/1 rectangle masks and the
# paper's lambdas 0.2 (G1) / 0.04 (G6).
_base_ = ['./lpm_g1g6.py']

structure_target = dict(mask_type='LDM')
model = dict(head=dict(loss=dict(lambda_g1=0.2, lambda_g6=0.04)))
