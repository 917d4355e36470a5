"""`spark-articulate train dit`: rectified-flow training of the part DiT on a synth dataset.

Data: a folder written by `spark-articulate synth` (training seed 2001, held-out 2002). Every
sample's object is rebuilt from its ``object_seed`` (the data engine is deterministic) and
encoded into part tokens (cached next to the checkpoints as ``tokens.pkl``); images are the
sample's rest or moved view, crops the bounding box of each link's mask in that view. Node order
is shuffled per sample; the image and crops are dropped (null features) 10% of the time for
classifier-free guidance. Checkpoints (model, optimiser, step, generators) go to
``OUT/checkpoint.pt`` every ``--checkpoint-every`` steps; ``--resume`` continues from it. The
final weights are ``OUT/diffusion_pytorch_model.safetensors`` + ``config.json``.
"""

from __future__ import annotations

import argparse
import math
import pickle
import sys
import time
from pathlib import Path

import numpy as np

from spark_blender.generation.conditioning import (
    CROP_SIZE,
    IMAGE_SIZE,
    LABELS,
    MAX_PARTS,
    crop_box,
    image_array,
    structure_of,
)
from spark_blender.generation.tokens import TOKEN_DIM, PartTokens, encode
from spark_blender.synth import CATEGORIES

DROP_P = 0.1


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, required=True, help="synth dataset folder (seed 2001)")
    p.add_argument("--out", type=Path, default=Path("models/dit"), help="output folder")
    p.add_argument("--steps", type=int, default=20000, help="optimiser steps (20000)")
    p.add_argument("--batch", type=int, default=32, help="objects per step (32)")
    p.add_argument("--lr", type=float, default=3e-4, help="peak learning rate (3e-4)")
    p.add_argument("--seed", type=int, default=0, help="training seed (0)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (1)")
    p.add_argument("--dim", type=int, default=128, help="model width (128)")
    p.add_argument("--depth", type=int, default=4, help="blocks (4)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument("--checkpoint-every", type=int, default=500, help="steps between checkpoints")
    p.add_argument("--tokens", type=Path, default=None, help="token cache (default OUT/tokens.pkl)")
    p.add_argument("--cached-only", action="store_true",
                   help="use only the samples whose tokens the cache already holds")  # fmt: skip
    p.add_argument("--no-hierarchical", action="store_true", help="ablation: no tree attention")
    p.add_argument("--no-part-images", action="store_true", help="ablation: no part crops")


class DitData:
    """Samples of a synth dataset as (structure, image, crops, token rows)."""

    def __init__(self, root: Path, cache: Path | None, cached_only: bool = False):
        from spark_blender.synth import generate
        from spark_blender.synth.dataset import SynthDataset

        ds = SynthDataset(root)
        tokens: dict[str, PartTokens] = {}
        if cache is not None and cache.is_file():
            tokens = pickle.loads(cache.read_bytes())
        self.items = []
        for i in range(len(ds)):
            item = ds[i]
            meta = item["meta"]
            if meta["key"] not in tokens:
                if cached_only:
                    continue
                tokens[meta["key"]] = encode(generate(meta["category"], meta["object_seed"]))
            tok = tokens[meta["key"]]
            if len(tok.parts) > MAX_PARTS:
                continue
            ids = {link["name"]: link["mask_id"] for link in meta["links"]}
            self.items.append((tok, item["rgba"][:2].copy(), item["mask"][:2].copy(), ids))
        if cache is not None and not cached_only:
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_bytes(pickle.dumps(tokens))

    def __len__(self) -> int:
        return len(self.items)

    def sample(
        self, i: int, rng: np.random.Generator, shuffle: bool = True, pose: int | None = None
    ):
        tok, rgba, mask, ids = self.items[i]
        pose = int(rng.integers(2)) if pose is None else pose
        image, m = rgba[pose], mask[pose]
        h, w = m.shape
        boxes, crops = [], []
        from PIL import Image

        pil = Image.fromarray(image)
        for part in tok.parts:
            if not part.parent:  # the root: the whole photo, as at sampling time
                boxes.append([0.0, 0.0, 1.0, 1.0])
                crops.append(image_array(pil, CROP_SIZE))
                continue
            ys, xs = np.nonzero(m == ids[part.name])
            if len(xs) == 0:
                boxes.append([0.0, 0.0, 0.0, 0.0])
                crops.append(np.ones((3, CROP_SIZE, CROP_SIZE), np.float32))
                continue
            box = [xs.min() / w, ys.min() / h, (xs.max() + 1) / w, (ys.max() + 1) / h]
            boxes.append(box)
            crops.append(image_array(crop_box(pil, box), CROP_SIZE))
        structure = structure_of(tok, boxes)
        rows = tok.vector()
        crops = np.stack(crops)
        if shuffle:
            order = rng.permutation(len(tok.parts))
            inverse = np.argsort(order)
            structure.label, structure.joint = structure.label[order], structure.joint[order]
            structure.cond = structure.cond[order]
            parent = structure.parent[order]
            structure.parent = np.where(parent >= 0, inverse[np.maximum(parent, 0)], -1)
            rows, crops = rows[order], crops[order]
        return structure, image_array(image, IMAGE_SIZE), crops, rows


def token_statistics(data: DitData) -> tuple[np.ndarray, np.ndarray]:
    rows = np.concatenate([tok.vector() for tok, *_ in data.items])
    mean, std = rows.mean(0), rows.std(0)
    return mean, np.maximum(std, 0.05)


def run(args) -> int:
    import torch

    from spark_blender.generation.conditioning import collate
    from spark_blender.generation.part_dit import PartDiT

    torch.set_num_threads(max(1, args.threads))
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("error: --device cuda asked for but CUDA is not available", file=sys.stderr)
        return 2
    if not (args.data / "manifest.json").is_file():
        print(f"error: --data '{args.data}' is not a synth dataset (no manifest.json)",
              file=sys.stderr)  # fmt: skip
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"loading {args.data} ...", file=sys.stderr)
    started = time.time()
    data = DitData(args.data, args.tokens or args.out / "tokens.pkl", args.cached_only)
    if len(data) == 0:
        print(f"error: no usable samples in '{args.data}'", file=sys.stderr)
        return 2
    print(f"{len(data)} samples ready in {time.time() - started:.0f} s", file=sys.stderr)
    mean, std = token_statistics(data)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = PartDiT(
        token_dim=TOKEN_DIM,
        dim=args.dim,
        depth=args.depth,
        hierarchical=not args.no_hierarchical,
        part_images=not args.no_part_images,
        image_size=IMAGE_SIZE,
        crop_size=CROP_SIZE,
        categories=list(CATEGORIES),
        labels=list(LABELS),
        mean=mean.tolist(),
        std=std.tolist(),
    ).to(args.device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    step, curve = 0, []
    ckpt = args.out / "checkpoint.pt"
    if args.resume:
        if not ckpt.is_file():
            print(f"error: --resume but '{ckpt}' does not exist", file=sys.stderr)
            return 2
        state = torch.load(ckpt, map_location=args.device, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, curve = state["step"], state.get("curve", [])
        rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
    mean_t = torch.tensor(mean, dtype=torch.float32, device=args.device)
    std_t = torch.tensor(std, dtype=torch.float32, device=args.device)
    try:
        from tqdm import tqdm

        bar = tqdm(total=args.steps, initial=step, desc="train dit", file=sys.stderr)
    except ImportError:  # pragma: no cover
        bar = None
    losses = []
    model.train()
    while step < args.steps:
        warm = min(1.0, (step + 1) / 200)
        lr = args.lr * warm * (0.5 + 0.5 * math.cos(math.pi * step / args.steps))
        for group in opt.param_groups:
            group["lr"] = lr
        picks = rng.integers(len(data), size=args.batch)
        samples = [data.sample(int(i), rng) for i in picks]
        batch = collate(*zip(*samples, strict=True))
        batch = {k: v.to(args.device) for k, v in batch.items()}
        x0 = (batch["x0"] - mean_t) / std_t
        sigma = torch.sigmoid(torch.randn(args.batch, device=args.device))
        noise = torch.randn_like(x0)
        xt = (1 - sigma[:, None, None]) * x0 + sigma[:, None, None] * noise
        drop = torch.rand(args.batch, device=args.device) < DROP_P
        v = model(xt, sigma, batch, drop=drop)
        err = ((v - (noise - x0)) ** 2).mean(-1)
        loss = (err * batch["mask"]).sum() / batch["mask"].sum()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        losses.append(float(loss.detach()))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}")
        if step % 100 == 0:
            curve.append((step, float(np.mean(losses[-100:]))))
        if step % args.checkpoint_every == 0 or step == args.steps:
            state = {
                "model": model.state_dict(),
                "opt": opt.state_dict(),
                "step": step,
                "curve": curve,
                "rng": rng.bit_generator.state,
                "torch_rng": torch.get_rng_state(),
            }
            torch.save(state, ckpt.with_suffix(".tmp"))
            ckpt.with_suffix(".tmp").replace(ckpt)
            model.save_pretrained(args.out, safe_serialization=True)
            (args.out / "curve.tsv").write_text(
                "step\tloss\n" + "".join(f"{s}\t{v:.5f}\n" for s, v in curve)
            )
    if bar is not None:
        bar.close()
    model.save_pretrained(args.out, safe_serialization=True)
    final = float(np.mean(losses[-100:])) if losses else float("nan")
    print(f"saved {args.out} after {step} steps (loss {final:.4f})")
    return 0
