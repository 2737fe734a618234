"""What NSRM, MMPose's modules and MMEngine's runner each add to a training
step, as ratios measured in one run.

Usage::

    python benchmarks/overheads.py [--device cuda:0] [--batch-size 8]
        [--repeat 5] [--workers 0]
    python benchmarks/overheads.py --quick      # a few-second smoke run

Prints three tables and writes ``benchmarks/results/overheads.json``. A
"bare step" is forward + ``NSRMLoss`` + backward + Adam step on a batch that
is already collated and on the device.

1. NSRM over CPM: the bare step of the paper's NSRM LPM-G1&6
   (``configs/nsrm/lpm_g1g6_panoptic.py``) over that of its CPM baseline
   (``configs/nsrm/cpm_panoptic.py``), 368x368.
2. MMPose's modules over plain PyTorch: the config-built NSRM model over
   :class:`PlainNSRM`, the same network written here with ``torch.nn`` only
   (VGG-19 conv/ReLU/max-pool layers to conv4_4, the adapter and the
   cascade), its weights copied from the built model; the outputs of the
   two are compared first (the run stops if they differ). Forward (eval,
   no grad) and bare step.
3. MMEngine's training iteration over the bare step: ``runner.train_loop``'s
   ``run_iter`` (hooks, data preprocessor and its copy to the device,
   ``train_step``, optimizer wrapper, logging) and the data loading before
   it (``--workers`` DataLoader workers over generated 640x480 JPEGs and the
   paper's pipeline), timed inside a real ``runner.train()`` of the paper's
   config, over the bare step of the same model on one of its batches.
"""
import argparse
import os.path as osp
import sys
import tempfile
import time
from typing import Dict, List, Sequence, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from benchmarks.common import (add_common_args, build_model,  # noqa: E402
                               device_info, fake_targets, load_model_config,
                               print_table, rows_with, start_run, synchronize,
                               time_call, write_hand_dataset, write_results)

NSRM_CONFIG = 'configs/nsrm/lpm_g1g6_panoptic.py'
CPM_CONFIG = 'configs/nsrm/cpm_panoptic.py'
#: VGG-19 up to conv4_4: conv widths, 'M' = 2x2 max-pool (MMPose's VGG
#: with depth=19, num_stages=4, with_last_pool=False).
VGG19_CONV4_4 = (64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512,
                 512, 512, 512)
#: The paper's input and heatmap sizes, and --quick's (with a narrow head,
#: ``common.QUICK_HEAD``).
FULL_SIZE, QUICK_SIZE = (368, 46), (16, 2)


class PlainNSRM(nn.Module):
    """NSRM (or CPM with ``num_structure_stages=0``) on VGG-19 conv4_4, in
    plain PyTorch: the network the paper configs build through MMPose's
    ``VGG`` and ``NSRMHead``, without them.

    Args:
        num_keypoints (int): K. Defaults to 21.
        structure_channels (int): C (7 for G1&6). Defaults to 7.
        num_structure_stages (int): Defaults to 3.
        num_pose_stages (int): Defaults to 3.
        adapter_channels (Sequence[int]): Defaults to (512, 512).
        feat_channels (int): Defaults to 128.
        first_stage_channels (int): Defaults to 512.
        stage_channels (int): Defaults to 128.
        stage_kernel_size (int): Defaults to 7.
        num_stage_convs (int): Defaults to 5.
        heatmap_size (Tuple[int, int], optional): Output ``(w, h)``; the
            features are resized bilinearly when they differ.

    ``forward(x)`` takes (B, 3, H, W) and returns ``(structure, pose)``:
    lists of (B, C, h, w) logits and (B, K, h, w) heatmaps, as
    ``NSRMHead.forward``.
    """

    def __init__(self,
                 num_keypoints: int = 21,
                 structure_channels: int = 7,
                 num_structure_stages: int = 3,
                 num_pose_stages: int = 3,
                 adapter_channels: Sequence[int] = (512, 512),
                 feat_channels: int = 128,
                 first_stage_channels: int = 512,
                 stage_channels: int = 128,
                 stage_kernel_size: int = 7,
                 num_stage_convs: int = 5,
                 heatmap_size: Tuple[int, int] = None):
        super().__init__()
        layers, c = [], 3
        for width in VGG19_CONV4_4:
            if width == 'M':
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c, width, 3, padding=1),
                           nn.ReLU(inplace=True)]
                c = width
        self.backbone = nn.Sequential(*layers)
        layers = []
        for width in (*adapter_channels, feat_channels):
            layers += [nn.Conv2d(c, width, 3, padding=1),
                       nn.ReLU(inplace=True)]
            c = width
        self.adapter = nn.Sequential(*layers)
        self.heatmap_size = heatmap_size

        def stage(c_in, c_out, first):
            if first:
                return nn.Sequential(
                    nn.Conv2d(c_in, first_stage_channels, 1),
                    nn.ReLU(inplace=True),
                    nn.Conv2d(first_stage_channels, c_out, 1))
            layers = []
            for i in range(num_stage_convs):
                layers += [nn.Conv2d(c_in if i == 0 else stage_channels,
                                     stage_channels, stage_kernel_size,
                                     padding=stage_kernel_size // 2),
                           nn.ReLU(inplace=True)]
            return nn.Sequential(
                *layers, nn.Conv2d(stage_channels, stage_channels, 1),
                nn.ReLU(inplace=True),
                nn.Conv2d(stage_channels, c_out, 1))

        C, K, F_ = structure_channels, num_keypoints, feat_channels
        self.structure = nn.ModuleList([
            stage(F_ + (C if t else 0), C, t == 0)
            for t in range(num_structure_stages)
        ])
        s_in = C if num_structure_stages else 0
        self.pose = nn.ModuleList([
            stage(F_ + s_in + (K if t else 0), K,
                  t == 0 and num_structure_stages == 0)
            for t in range(num_pose_stages)
        ])

    def extract_feat(self, x):
        return self.backbone(x)

    def forward(self, x):
        f = self.adapter(self.backbone(x))
        if self.heatmap_size is not None:
            w, h = self.heatmap_size
            if tuple(f.shape[-2:]) != (h, w):
                f = F.interpolate(f, size=(h, w), mode='bilinear',
                                  align_corners=False)
        structure = []
        for t, st in enumerate(self.structure):
            structure.append(
                st(f if t == 0 else torch.cat([f, structure[-1]], dim=1)))
        pose, base = [], [f] + structure[-1:]
        for st in self.pose:
            pose.append(st(torch.cat(base + pose[-1:], dim=1)))
        return structure, pose


def plain_twin(model: nn.Module) -> PlainNSRM:
    """A :class:`PlainNSRM` shaped like a config-built VGG-19 NSRM model
    (its head's settings), with the model's conv weights copied.

    Raises:
        RuntimeError: the two do not have the same convolutions.
    """
    head = model.head
    first = (head.structure_stages or head.pose_stages)[0]
    later = (list(head.pose_stages[1:]) or [None])[0]
    kw = dict(num_keypoints=head.num_keypoints,
              structure_channels=head.structure_channels,
              num_structure_stages=head.num_structure_stages,
              num_pose_stages=len(head.pose_stages),
              adapter_channels=[m.out_channels for m in head.adapter
                                if isinstance(m, nn.Conv2d)][:-1],
              feat_channels=head.adapter[-2].out_channels,
              first_stage_channels=first[0].out_channels,
              heatmap_size=head.heatmap_size)
    if later is not None:
        kw.update(stage_channels=later[0].out_channels,
                  stage_kernel_size=later[0].kernel_size[0],
                  num_stage_convs=(len(later) - 3) // 2)
    plain = PlainNSRM(**kw)
    src = [m for part in (model.backbone, head) for m in part.modules()
           if isinstance(m, nn.Conv2d)]
    dst = [m for m in plain.modules() if isinstance(m, nn.Conv2d)]
    shapes = [tuple(m.weight.shape) for m in src]
    if shapes != [tuple(m.weight.shape) for m in dst]:
        raise RuntimeError('PlainNSRM does not have the convolutions of the '
                           f'config-built model: {len(src)} vs {len(dst)} '
                           f'convs, first shapes {shapes[:3]}')
    with torch.no_grad():
        for s, d in zip(src, dst):
            d.weight.copy_(s.weight)
            d.bias.copy_(s.bias)
    return plain.to(next(model.parameters()).device)


def bare_step(net: nn.Module, head_loss: nn.Module,
              optimizer: torch.optim.Optimizer, inputs: torch.Tensor,
              targets: Dict) -> None:
    """Forward + NSRMLoss + backward + optimizer step + zero_grad.

    ``net`` is a config-built model (its ``extract_feat`` and
    ``head.forward``) or a :class:`PlainNSRM` (its ``forward``).
    """
    if isinstance(net, PlainNSRM):
        structure, pose = net(inputs)
    else:
        structure, pose = net.head.forward(net.extract_feat(inputs))
    losses = head_loss(pose, structure, targets['heatmaps'],
                       targets['limb_masks'], targets['keypoint_weights'])
    sum(losses.values()).backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def adam(net: nn.Module) -> torch.optim.Optimizer:
    """The paper configs' optimizer (Adam, lr 1e-4)."""
    return torch.optim.Adam(net.parameters(), lr=1e-4)


def time_bare_step(model, loss, inputs, targets, repeat, warmup, device):
    optimizer = adam(model)
    model.train()
    return time_call(
        lambda: bare_step(model, loss, optimizer, inputs, targets), repeat,
        warmup, device)['median_ms']


def nsrm_over_cpm(device, sizes, batch, repeat, warmup, quick) -> List[Dict]:
    """Table 1."""
    rows = []
    models = (('CPM', CPM_CONFIG), ('NSRM LPM-G1&6', NSRM_CONFIG))
    for name, config in models:
        model = build_model(
            load_model_config(config, (sizes[0], ) * 2, (sizes[1], ) * 2,
                              quick), device)
        inputs = torch.randn(batch, 3, sizes[0], sizes[0],
                             generator=torch.Generator().manual_seed(0))
        inputs = inputs.to(device)
        targets = fake_targets(model, inputs)
        rows.append(dict(what=f'{name} bare step', config=config,
                         ms=time_bare_step(model, model.head.loss_module,
                                           inputs, targets, repeat, warmup,
                                           device)))
        del model
    rows.append(dict(what='NSRM / CPM', ratio=rows[1]['ms'] / rows[0]['ms']))
    return rows


def modules_over_plain(device, sizes, batch, repeat, warmup,
                       quick) -> List[Dict]:
    """Table 2."""
    model = build_model(
        load_model_config(NSRM_CONFIG, (sizes[0], ) * 2, (sizes[1], ) * 2,
                          quick), device)
    plain = plain_twin(model)
    inputs = torch.randn(batch, 3, sizes[0], sizes[0],
                         generator=torch.Generator().manual_seed(1))
    inputs = inputs.to(device)
    model.eval()
    plain.eval()
    with torch.no_grad():
        s1, k1 = model._forward(inputs)
        s2, k2 = plain(inputs)
    outs1, outs2 = s1 + k1, s2 + k2
    scale = max(float(o.abs().max()) for o in outs1) or 1.0
    diff = max(float((a - b).abs().max()) for a, b in zip(outs1, outs2))
    # identical on a CPU; a GPU may pick other conv algorithms (TF32)
    if len(outs1) != len(outs2) or diff > 1e-3 * scale:
        raise RuntimeError(
            f'PlainNSRM and the config-built model disagree: max |diff| '
            f'{diff:g} (outputs up to {scale:g})')

    def forward(net):
        def run():
            with torch.no_grad():
                net._forward(inputs) if net is model else net(inputs)
        return time_call(run, repeat, warmup, device)['median_ms']

    targets = fake_targets(model, inputs)
    rows = [
        dict(what='forward, config-built', ms=forward(model)),
        dict(what='forward, plain PyTorch', ms=forward(plain)),
    ]
    rows.append(dict(what='forward: config-built / plain',
                     ratio=rows[0]['ms'] / rows[1]['ms'],
                     max_diff=diff))
    loss = model.head.loss_module
    rows += [
        dict(what='bare step, config-built',
             ms=time_bare_step(model, loss, inputs, targets, repeat, warmup,
                               device)),
        dict(what='bare step, plain PyTorch',
             ms=time_bare_step(plain, loss, inputs, targets, repeat, warmup,
                               device)),
    ]
    rows.append(dict(what='bare step: config-built / plain',
                     ratio=rows[3]['ms'] / rows[4]['ms']))
    return rows


def runner_over_bare(device, sizes, batch, repeat, warmup, workers,
                     work_dir, quick) -> List[Dict]:
    """Table 3: a real ``runner.train()`` of the paper's config over
    generated data, ``run_iter`` and the data fetch before it timed."""
    from mmengine.config import Config

    from projects.nsrm.utils.runner_setup import (adapt_cfg_to_device,
                                                  build_runner)
    iters = warmup + repeat
    data_root = osp.join(work_dir, 'data')
    write_hand_dataset(data_root, num_samples=iters * batch)
    cfg = load_model_config(NSRM_CONFIG, (sizes[0], ) * 2, (sizes[1], ) * 2,
                            quick)
    cfg.merge_from_dict({
        'work_dir': osp.join(work_dir, 'run'),
        'train_cfg.max_epochs': 1,
        'train_dataloader.batch_size': batch,
        'train_dataloader.num_workers': workers,
        'train_dataloader.persistent_workers': workers > 0,
        'train_dataloader.pin_memory': device.type == 'cuda',
        'train_dataloader.dataset.data_root': data_root + '/',
        'randomness.seed': 0,
        # no checkpoint: writing one is not part of an iteration
        'default_hooks.checkpoint': None,
        # its own visualizer instance (MMEngine keeps instances by name),
        # which writes into work_dir, removed afterwards
        'visualizer.name': f'overheads_{time.time_ns()}',
    })
    cfg = Config(dict(cfg.to_dict(), val_cfg=None, val_dataloader=None,
                      val_evaluator=None, test_cfg=None,
                      test_dataloader=None, test_evaluator=None),
                 filename=cfg.filename)
    runner = build_runner(adapt_cfg_to_device(cfg))
    runner.model.to(device)
    loop = runner.train_loop
    run_iter, spans = loop.run_iter, []

    def timed_run_iter(idx, data_batch):
        synchronize(device)
        start = time.perf_counter()
        run_iter(idx, data_batch)
        synchronize(device)
        spans.append((start, time.perf_counter()))

    loop.run_iter = timed_run_iter
    runner.train()
    # the data fetch before iteration i: from the end of i - 1 to the start
    # of i; both for the iterations after the warm-up
    iter_ms = sorted(1e3 * (end - start) for start, end in spans[warmup:])
    fetch_ms = sorted(1e3 * (b[0] - a[1])
                      for a, b in list(zip(spans, spans[1:]))[warmup - 1:])

    model = runner.model
    data = model.data_preprocessor(next(iter(runner.train_dataloader)),
                                   True)
    samples = data['data_samples']
    targets = dict(
        heatmaps=torch.stack([d.gt_fields.heatmaps for d in samples]),
        limb_masks=torch.stack([d.gt_fields.limb_masks for d in samples]),
        keypoint_weights=torch.cat(
            [d.gt_instance_labels.keypoint_weights for d in samples]))
    bare = time_call(
        lambda: bare_step(model, model.head.loss_module,
                          runner.optim_wrapper.optimizer, data['inputs'],
                          targets), repeat, warmup, device)['median_ms']
    median = (lambda xs: xs[len(xs) // 2] if xs else None)
    rows = [
        dict(what=f'data fetch ({workers} workers)', ms=median(fetch_ms)),
        dict(what='run_iter (hooks, preprocessor, train_step, logging)',
             ms=median(iter_ms)),
        dict(what='bare step', ms=bare),
        dict(what='run_iter / bare step', ratio=median(iter_ms) / bare),
    ]
    if fetch_ms:
        rows.append(dict(what='(data fetch + run_iter) / bare step',
                         ratio=(median(fetch_ms) + median(iter_ms)) / bare))
    return rows


def main(argv: Sequence[str] = None) -> Dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    parser.add_argument('--batch-size', type=int, default=None,
                        help='batch size (default 8; --quick: 2)')
    parser.add_argument('--repeat', type=int, default=5,
                        help='timed steps per figure (median); default 5')
    parser.add_argument('--workers', type=int, default=0,
                        help='DataLoader workers of the runner table '
                        '(default 0: the data time in the main process)')
    args = parser.parse_args(argv)
    device, repeat = start_run(args)
    warmup = 1
    batch = args.batch_size or (2 if args.quick else 8)
    if repeat < 1 or batch < 1 or args.workers < 0:
        raise ValueError('--repeat and --batch-size must be >= 1 and '
                         f'--workers >= 0, got {repeat}, {batch}, '
                         f'{args.workers}')
    sizes = QUICK_SIZE if args.quick else FULL_SIZE
    info = device_info(device)

    import projects.nsrm  # noqa: F401  registers NSRM's modules
    title = (f'(ms per batch of {batch} at {sizes[0]}x{sizes[0]}, median of '
             f'{repeat})')
    columns = [('what', '', ''), ('ms', 'ms', '.1f'),
               ('ratio', 'ratio', '.3f')]
    tables = {}
    tables['nsrm_over_cpm'] = nsrm_over_cpm(device, sizes, batch, repeat,
                                            warmup, args.quick)
    print_table(f'NSRM over CPM, training step {title}', info, columns,
                tables['nsrm_over_cpm'])
    tables['modules_over_plain'] = modules_over_plain(
        device, sizes, batch, repeat, warmup, args.quick)
    print_table(f'Config-built model over plain PyTorch {title}', info,
                columns + [('max_diff', 'max |diff| of outputs', '.1e')],
                tables['modules_over_plain'])
    with tempfile.TemporaryDirectory() as work_dir:
        tables['runner_over_bare'] = runner_over_bare(
            device, sizes, batch, repeat, warmup, args.workers, work_dir,
            args.quick)
    print_table(f'MMEngine training iteration over the bare step {title}',
                info, columns, tables['runner_over_bare'])
    payload = dict(
        script='overheads', device=info,
        settings=dict(repeat=repeat, quick=args.quick, batch_size=batch,
                      input_size=sizes[0], heatmap_size=sizes[1],
                      workers=args.workers),
        **{name: rows_with(info, rows) for name, rows in tables.items()})
    payload['path'] = write_results('overheads', payload, args.out)
    return payload


if __name__ == '__main__':
    main()
