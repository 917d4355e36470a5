"""`spark-articulate train parser`: the embedded structure parser on synth datasets.

Reproducible from ``--seed`` (torch, numpy and the data order), a progress bar, a checkpoint
every ``--checkpoint-every`` steps (model, optimiser, step) in ``--work``, ``--resume`` from the
latest, CPU by default (CUDA with ``--device cuda``). The weights go to ``--out`` as
``config.json`` + safetensors (diffusers' `save_pretrained`) at every checkpoint and at the end,
with the losses (``losses.jsonl`` in the work folder) for the curves in docs/models.md.

Losses: category CE; part count CE; azimuth / elevation bin CE + offset L1; aspect L1 (log ratios);
foreground BCE + dice; part slots matched to the visible parts by the Hungarian algorithm
(cost: label and type probability, 2D box L1, mask dice), then exists BCE on every slot and,
on matched slots, label / type / axis / pivot / parent CE, 2D and 3D box, limit, observed and
pivot-offset L1, mask BCE + dice.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from spark_blender.cli_options import float_in

STEPS = 4000
BATCH = 16


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data",
        required=True,
        nargs="+",
        help="one or more synth dataset folders (spark-articulate synth)",
    )
    p.add_argument("--out", default="models/parser", help="where the weights are written")
    p.add_argument("--work", help="checkpoints and losses (default: <out>.work)")
    p.add_argument("--steps", type=int, default=STEPS)
    p.add_argument("--batch-size", type=int, default=BATCH)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--resume", action="store_true", help="continue from the latest checkpoint")
    p.add_argument(
        "--init",
        help="start from the weights of this model folder (heads it lacks start fresh); "
        "--resume with a checkpoint takes precedence",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint-every", type=int, default=100)
    p.add_argument("--image-size", type=int, default=128)
    p.add_argument("--workers", type=int, default=1, help="data-loading processes (0: inline)")
    p.add_argument(
        "--rest-share",
        type=float_in(0.0, 1.0),
        default=None,
        help="share of training views drawn from the rest pose (default: all poses alike)",
    )
    p.add_argument(
        "--photo-share",
        type=float_in(0.0, 1.0),
        default=None,
        help="share of views drawn from each sample's pose nearest its observed configuration "
        "(the pose a photo shows; instead of --rest-share)",
    )
    p.add_argument(
        "--texture", action="store_true", help="per-link surface textures on half the images"
    )
    p.add_argument(
        "--crop",
        action="store_true",
        help="frame 70%% of the images as the parser's second pass frames a photo",
    )
    p.add_argument(
        "--reflect",
        type=float_in(0.0, 1.0),
        default=0.0,
        help="share of images with mirror-like finishes (a studio reflected in their links)",
    )


def _stream(roots, batch_size: int, size: int, seed: list[int], shares=(None, None),
            texture: bool = False, crop: bool = False, reflect: float = 0.0):  # fmt: skip
    """The batch stream as an iterable dataset (loader processes prepare the batches)."""
    import torch

    from spark_blender.training.parser_data import batches

    class Stream(torch.utils.data.IterableDataset):
        def __iter__(self):
            torch.set_num_threads(1)
            worker = torch.utils.data.get_worker_info()
            # each loader process its own stream (the same seed would repeat the same batches)
            rng = np.random.default_rng(seed if worker is None else [*seed, worker.id])
            return batches(roots, batch_size, size, rng, rest_share=shares[0],
                           photo_share=shares[1], texture=texture, crop=crop,
                           reflect=reflect)  # fmt: skip

    return Stream()


def category_heights(roots) -> dict[str, float]:
    """Median rest height (metres) per category over the datasets' records: the scale prior."""
    from spark_blender.perception.embedded.targets import object_frame
    from spark_blender.synth.dataset import SynthDataset
    from spark_blender.training.parser_data import dataset_folders

    heights: dict[str, list[float]] = {}
    for root in dataset_folders(roots):
        ds = SynthDataset(root)
        for number in range(len(ds.manifest["shards"])):
            for meta in ds._shard(number)["meta"]:
                heights.setdefault(meta["category"], []).append(float(object_frame(meta)[1][2]))
    return {c: round(float(np.median(h)), 4) for c, h in sorted(heights.items())}


def _dice(pred, target):
    inter = (pred * target).flatten(1).sum(1)
    return 1 - (2 * inter + 1) / (pred.flatten(1).sum(1) + target.flatten(1).sum(1) + 1)


def losses(out: dict, batch, config) -> dict:
    """Every loss term of one batch (see the module docstring)."""
    import torch
    import torch.nn.functional as F
    from scipy.optimize import linear_sum_assignment

    from spark_blender.perception.embedded import targets as T

    device = out["category"].device
    terms: dict[str, torch.Tensor] = {}
    terms["category"] = F.cross_entropy(out["category"], batch.category.to(device))
    for name, lo_hi, bins in (
        ("azimuth", config.azimuth_range, config.azimuth_bins),
        ("elevation", config.elevation_range, config.elevation_bins),
    ):
        encoded = [T.bin_encode(float(v), *lo_hi, bins) for v in getattr(batch, name)]
        index = torch.tensor([e[0] for e in encoded], device=device)
        offset = torch.tensor([e[1] for e in encoded], device=device)
        terms[name] = F.cross_entropy(out[f"{name}_bins"], index) + 2 * F.l1_loss(
            out[f"{name}_offsets"].gather(1, index[:, None])[:, 0], offset
        )
    terms["aspect"] = F.l1_loss(out["aspect"], batch.aspect.to(device))
    counts = [min(len(gt["label"]), out["count"].shape[1] - 1) for gt in batch.parts]
    terms["count"] = F.cross_entropy(out["count"], torch.tensor(counts, device=device))
    fg = batch.fg.to(device)
    terms["fg"] = (
        F.binary_cross_entropy_with_logits(out["mask"], fg)
        + _dice(torch.sigmoid(out["mask"]), fg).mean()
    )
    # slots
    exists_target = torch.zeros_like(out["exists"])
    parts_terms: dict[str, list] = {k: [] for k in (
        "label", "type", "axis", "pivot", "pivot_offset", "box2d", "box3d", "limits",
        "observed", "part_mask", "parent")}  # fmt: skip
    for b, gt in enumerate(batch.parts):
        n = len(gt["label"])
        if n == 0:
            continue
        gt = {k: v.to(device) for k, v in gt.items()}
        with torch.no_grad():
            p_label = out["label"][b].softmax(-1)[:, gt["label"]]
            p_type = out["type"][b].softmax(-1)[:, gt["type"]]
            l1 = torch.cdist(out["box2d"][b], gt["box2d"], p=1)
            pm = torch.sigmoid(out["part_masks"][b]).flatten(1)
            gm = gt["mask"].flatten(1)
            dice = 1 - (2 * pm @ gm.T + 1) / (pm.sum(1)[:, None] + gm.sum(1)[None] + 1)
            cost = -p_label - p_type + 5 * l1 + 2 * dice - torch.sigmoid(out["exists"][b])[:, None]
            rows, cols = linear_sum_assignment(cost.cpu().numpy())
        rows = torch.as_tensor(rows, device=device)
        cols = torch.as_tensor(cols, device=device)
        exists_target[b, rows] = 1.0
        # More visible parts than slots (a keyboard's keys): the unmatched ones get no slot, and
        # a matched part whose parent got none learns the base as its parent.
        slot_of = torch.full((n,), -1, dtype=torch.long, device=device)
        slot_of[cols] = rows
        gt = {k: v[cols] for k, v in gt.items()}
        parts_terms["label"].append(
            F.cross_entropy(out["label"][b, rows], gt["label"], reduction="none")
        )
        parts_terms["type"].append(
            F.cross_entropy(out["type"][b, rows], gt["type"], reduction="none")
        )
        parts_terms["axis"].append(
            F.cross_entropy(out["axis"][b, rows], gt["axis"], reduction="none")
        )
        revolute = (gt["type"] == 0).float()
        moving = (gt["type"] != 2).float()
        parts_terms["pivot"].append(
            F.cross_entropy(out["pivot"][b, rows], gt["pivot"], reduction="none") * revolute
        )
        parts_terms["pivot_offset"].append(
            (out["pivot_offset"][b, rows] - gt["pivot_offset"]).abs().sum(-1) * revolute
        )
        parts_terms["box2d"].append((out["box2d"][b, rows] - gt["box2d"]).abs().sum(-1))
        parts_terms["box3d"].append((out["box3d"][b, rows] - gt["box3d"]).abs().sum(-1))
        parts_terms["limits"].append((out["limits"][b, rows] - gt["limits"]).abs().sum(-1) * moving)
        parts_terms["observed"].append((out["observed"][b, rows] - gt["observed"]).abs() * moving)
        logits = out["part_masks"][b, rows]
        parts_terms["part_mask"].append(
            F.binary_cross_entropy_with_logits(logits, gt["mask"], reduction="none").mean((1, 2))
            + _dice(torch.sigmoid(logits), gt["mask"])
        )
        parent_slot = slot_of[(gt["parent"] - 1).clamp(min=0)]
        parent_key = torch.where((gt["parent"] > 0) & (parent_slot >= 0), parent_slot + 1, 0)
        parts_terms["parent"].append(
            F.cross_entropy(out["parent"][b, rows], parent_key, reduction="none"))  # fmt: skip
    weights = torch.where(exists_target > 0, 1.0, 0.3)
    terms["exists"] = (
        F.binary_cross_entropy_with_logits(out["exists"], exists_target, reduction="none") * weights
    ).sum() / weights.sum()
    scale = {"box2d": 5.0, "box3d": 3.0, "observed": 2.0, "pivot_offset": 2.0, "limits": 1.0}
    for name, values in parts_terms.items():
        if values:
            terms[name] = torch.cat(values).mean() * scale.get(name, 1.0)
    return terms


def _initialise(model, folder: Path) -> None:
    """Copy the weights of a saved model into `model`, where names and shapes agree."""
    from safetensors.torch import load_file

    saved = load_file(str(folder / "diffusion_pytorch_model.safetensors"))
    own = model.state_dict()
    usable = {k: v for k, v in saved.items() if k in own and own[k].shape == v.shape}
    usable.update(_rows_by_name(model, folder, saved, own))
    model.load_state_dict(usable, strict=False)
    fresh = sorted({k.split(".")[0] for k in own if k not in usable})
    print(f"initialised from {folder}; fresh: {', '.join(fresh) or 'nothing'}")


# Heads with one output row per name in the model's config: a grown list keeps its known rows.
NAMED_ROWS = {"category_head": "categories", "label_head": "labels"}


def _rows_by_name(model, folder: Path, saved: dict, own: dict) -> dict:
    """The category and label heads of a model whose lists differ from the saved one's: rows
    copied by name, new names' rows left as initialised."""
    config = json.loads((folder / "config.json").read_text())
    out = {}
    for key, value in saved.items():
        head = key.split(".")[0]
        if head not in NAMED_ROWS or key not in own:  # same shape, other names: by name too
            continue
        if own[key].shape[1:] != value.shape[1:]:
            continue
        old_names = list(config.get(NAMED_ROWS[head], []))
        new_names = list(getattr(model.config, NAMED_ROWS[head]))
        if len(old_names) != value.shape[0]:
            continue
        rows = own[key].clone()
        for i, name in enumerate(old_names):
            if name in new_names:
                rows[new_names.index(name)] = value[i]
        out[key] = rows
    return out


def run(args: argparse.Namespace) -> int:
    import torch
    from tqdm import tqdm

    from spark_blender.perception.embedded import targets as T
    from spark_blender.perception.embedded.model import StructureParserModel
    from spark_blender.synth.dataset import SynthDataset

    try:
        for root in args.data:
            SynthDataset(root)
    except (FileNotFoundError, ValueError) as exc:
        print(f"train parser: {exc}", file=sys.stderr)
        return 2
    if args.steps < 1 or args.batch_size < 1:
        print("train parser: --steps and --batch-size must be at least 1", file=sys.stderr)
        return 2
    if args.device == "cuda" and not torch.cuda.is_available():
        print("train parser: --device cuda but no CUDA device is available", file=sys.stderr)
        return 2
    torch.set_num_threads(max(1, args.threads))
    out = Path(args.out)
    work = Path(args.work) if args.work else out.with_name(out.name + ".work")
    work.mkdir(parents=True, exist_ok=True)
    checkpoint = work / "checkpoint.pt"
    torch.manual_seed(args.seed)
    model = StructureParserModel(
        image_size=args.image_size,
        categories=T.CATEGORIES,
        labels=T.LABELS,
        types=T.TYPES,
        azimuth_bins=T.AZIMUTH_BINS,
        elevation_bins=T.ELEVATION_BINS,
        azimuth_range=T.AZIMUTH_RANGE,
        elevation_range=T.ELEVATION_RANGE,
        height_prior_m=category_heights(args.data),
    ).to(args.device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    step = 0
    if args.resume and checkpoint.is_file():
        state = torch.load(checkpoint, map_location=args.device, weights_only=False)
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        step = int(state["step"])
        torch.set_rng_state(state["torch_rng"])
        print(f"resumed from {checkpoint} at step {step}")
    else:
        if args.resume:
            print(f"no checkpoint in {work}; starting from step 0")
        if args.init:
            _initialise(model, Path(args.init))
    # the data order is a function of (seed, step), so a resumed run continues reproducibly
    stream = iter(torch.utils.data.DataLoader(
        _stream(args.data, args.batch_size, args.image_size, [args.seed, step],
                (args.rest_share, args.photo_share), args.texture, args.crop, args.reflect),
        batch_size=None, num_workers=args.workers, prefetch_factor=4 if args.workers else None,
    ))  # fmt: skip
    warmup = min(200, max(1, args.steps // 20))

    def lr_at(s: int) -> float:
        if s < warmup:
            return args.lr * (s + 1) / warmup
        t = (s - warmup) / max(1, args.steps - warmup)
        return args.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(t, 1.0))))

    def save() -> None:
        torch.save({"model": model.state_dict(), "optimiser": optimiser.state_dict(),
                    "step": step, "torch_rng": torch.get_rng_state()}, checkpoint)  # fmt: skip
        model.save_pretrained(out, safe_serialization=True)

    log = (work / "losses.jsonl").open("a")
    started = time.time()
    model.train()
    bar = tqdm(total=args.steps, initial=step, desc="train parser", unit="step", file=sys.stderr)
    while step < args.steps:
        batch = next(stream)
        for group in optimiser.param_groups:
            group["lr"] = lr_at(step)
        output = model(batch.images.to(args.device))
        terms = losses(output, batch, model.config)
        total = sum(terms.values())
        optimiser.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimiser.step()
        step += 1
        record = {"step": step, "total": float(total.detach()), "lr": lr_at(step - 1),
                  "seconds": round(time.time() - started, 1),
                  **{k: round(float(v.detach()), 5) for k, v in terms.items()}}  # fmt: skip
        log.write(json.dumps(record) + "\n")
        log.flush()
        bar.update(1)
        bar.set_postfix(loss=f"{float(total):.3f}")
        if step % args.checkpoint_every == 0 or step == args.steps:
            save()
    bar.close()
    log.close()
    print(f"wrote {out} after {step} steps ({time.time() - started:.0f} s this run)")
    return 0
