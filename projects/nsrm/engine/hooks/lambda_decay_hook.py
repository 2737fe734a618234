"""Step decay of the NSRM structure-loss lambdas (paper Sec. 4.2)."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmpose.registry import HOOKS


@HOOKS.register_module()
class LambdaDecayHook(Hook):
    """Set ``lambda = base_lambda * gamma ** (epoch // step)`` before every
    training epoch on every module of the model with a ``set_lambda_factor``
    method (e.g. ``NSRMLoss``), and log the current lambdas to the message
    hub (``train/lambda_g1`` ...) before every training iteration.

    ``runner.epoch`` is the 0-based epoch about to run (restored on resume),
    so the schedule resumes correctly. Only epoch-based loops call
    ``before_train_epoch``.

    Args:
        gamma (float): Decay ratio in (0, 1]. Defaults to 0.1.
        step (int): Decay period in epochs (>= 1). Defaults to 20.
    """
    priority = 'NORMAL'

    def __init__(self, gamma: float = 0.1, step: int = 20):
        if not 0 < gamma <= 1:
            raise ValueError(f'gamma must be in (0, 1], got {gamma}')
        if int(step) != step or step < 1:
            raise ValueError(f'step must be an integer >= 1, got {step}')
        self.gamma, self.step = float(gamma), int(step)
        self._targets = []

    def _find_targets(self, runner) -> list:
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        targets = [
            m for m in model.modules()
            if callable(getattr(m, 'set_lambda_factor', None))
        ]
        if not targets:
            raise RuntimeError(
                'LambdaDecayHook: the model has no loss module with a '
                '`set_lambda_factor` method (e.g. NSRMLoss)')
        return targets

    def before_train_epoch(self, runner) -> None:
        factor = self.gamma**(runner.epoch // self.step)
        self._targets = self._find_targets(runner)
        for module in self._targets:
            module.set_lambda_factor(factor)

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        if not self._targets:
            self._targets = self._find_targets(runner)
        for module in self._targets:
            if callable(getattr(module, 'current_lambdas', None)):
                for name, value in module.current_lambdas().items():
                    runner.message_hub.update_scalar(f'train/{name}', value)
