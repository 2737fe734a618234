"""A hook, imported by test runs through ``custom_imports``, that records
the runner's state when training starts (after any resume)."""
import json

from mmengine.hooks import Hook
from mmpose.registry import HOOKS


@HOOKS.register_module()
class ResumeProbeHook(Hook):
    """Dumps epoch, iter, optimizer, scheduler and message-hub state."""

    def __init__(self, out_file):
        self.out_file = out_file

    def before_train(self, runner):
        optimizer = runner.optim_wrapper.optimizer
        steps = [float(s['step']) for s in optimizer.state_dict()['state'].values()]
        first = next(iter(optimizer.state.values()))
        schedulers = runner.param_schedulers
        schedulers = schedulers if isinstance(schedulers, list) else []
        hub = runner.message_hub
        record = dict(
            epoch=runner.epoch,
            iter=runner.iter,
            optimizer_steps=sorted(set(steps)),
            exp_avg_sum=float(first['exp_avg'].double().sum()),
            lr=[g['lr'] for g in optimizer.param_groups],
            scheduler_last_steps=[s.last_step for s in schedulers],
            hub_runtime_info=dict(
                epoch=hub.get_info('epoch'), iter=hub.get_info('iter')),
            hub_loss_count=len(hub.get_scalar('train/loss').data[0])
            if 'train/loss' in hub.log_scalars else 0,
        )
        with open(self.out_file, 'w') as f:
            json.dump(record, f)
