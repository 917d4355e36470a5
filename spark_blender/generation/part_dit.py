"""The part DiT: a rectified-flow transformer over part tokens, with hierarchical attention.

One row per link (``tokens.TOKEN_DIM`` generated fields: box, pivot, builder parameters, builder
one-hot), conditioned on the coarse structure (category, each part's label, joint type, axis,
pivot, limits and 2D box, the object's aspect) and on the photo. Every block has

1. local cross-attention: each part token attends to the patch features of its own reference
   crop (a small conv encoder, ``PatchEncoder``; the embedded parser's features could replace it);
2. hierarchical attention: a child->parent layer (a part sees itself and its parent) and a
   parent->children layer (a part sees itself and its children), masked by the coarse tree;
3. global self-attention over all parts (padding masked; no row is ever fully masked: every
   part sees itself);
4. global cross-attention to the whole image's patches;
5. an MLP; every sub-layer is modulated (adaLN) by the flow time and the category.

Variable part counts are padded with a mask. Condition dropout (training) replaces the image and
crop features by learned null features, so classifier-free guidance works at sampling time.
``hierarchical=False`` and ``part_images=False`` build the ablations.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

COND_DIM = 12  # axis 3, pivot 3, limits 2, box_2d 4


class PatchEncoder(nn.Module):
    """Conv stack: (B, 3, S, S) images -> (B, (S/8)^2, dim) patch features."""

    def __init__(self, dim: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 24, 4, 4),
            nn.GELU(),
            nn.Conv2d(24, dim, 2, 2),
            nn.GELU(),
            nn.Conv2d(dim, dim, 1),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.net(images)
        return features.flatten(2).transpose(1, 2)


def _modulate(x, shift, scale):
    return x * (1 + scale) + shift


class Attention(nn.Module):
    """Pre-norm, adaLN-modulated multi-head attention with a gated residual."""

    def __init__(self, dim: int, heads: int, cross: bool = False):
        super().__init__()
        self.heads = heads
        self.norm = nn.LayerNorm(dim, elementwise_affine=False)
        self.kv_norm = nn.LayerNorm(dim) if cross else None
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, mod, context=None, mask=None):
        shift, scale, gate = mod
        h = _modulate(self.norm(x), shift, scale)
        kv = h if context is None else self.kv_norm(context)
        b, n, d = h.shape
        q = self.q(h).reshape(b, n, self.heads, -1).transpose(1, 2)
        k, v = self.kv(kv).reshape(b, kv.shape[1], 2, self.heads, -1).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return x + gate * self.proj(out.transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, hierarchical: bool, part_images: bool):
        super().__init__()
        self.hierarchical = hierarchical
        self.part_images = part_images
        self.local = Attention(dim, heads, cross=True) if part_images else None
        self.up = Attention(dim, heads) if hierarchical else None
        self.down = Attention(dim, heads) if hierarchical else None
        self.glob = Attention(dim, heads)
        self.image = Attention(dim, heads, cross=True)
        self.mlp_norm = nn.LayerNorm(dim, elementwise_affine=False)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))
        self.n_mod = 3 * (3 + 2 * hierarchical + part_images)
        self.ada = nn.Linear(dim, self.n_mod * dim)
        nn.init.zeros_(self.ada.weight)
        nn.init.zeros_(self.ada.bias)

    def forward(self, x, c, crops, image, up_mask, down_mask, key_mask):
        b, n, d = x.shape
        mods = self.ada(F.silu(c)).unsqueeze(1).chunk(self.n_mod, dim=-1)
        mods = [mods[i : i + 3] for i in range(0, self.n_mod, 3)]
        k = 0
        if self.local is not None:
            flat = self.local(x.reshape(b * n, 1, d), [m.repeat_interleave(n, 0) for m in mods[k]],
                              context=crops)  # fmt: skip
            x = flat.reshape(b, n, d)
            k += 1
        if self.hierarchical:
            x = self.up(x, mods[k], mask=up_mask)
            x = self.down(x, mods[k + 1], mask=down_mask)
            k += 2
        x = self.glob(x, mods[k], mask=key_mask)
        x = self.image(x, mods[k + 1], context=image)
        shift, scale, gate = mods[k + 2]
        return x + gate * self.mlp(_modulate(self.mlp_norm(x), shift, scale))


class PartDiT(ModelMixin, ConfigMixin):
    """Velocity model v(x_t, t | structure, image) over padded part tokens."""

    @register_to_config
    def __init__(
        self,
        token_dim: int = 32,
        dim: int = 128,
        depth: int = 4,
        heads: int = 4,
        n_categories: int = 48,
        n_labels: int = 64,
        n_joint_types: int = 5,
        hierarchical: bool = True,
        part_images: bool = True,
        image_size: int = 64,
        crop_size: int = 32,
        categories: list | None = None,
        labels: list | None = None,
        mean: list | None = None,
        std: list | None = None,
    ):
        super().__init__()
        self.encoder = PatchEncoder(dim)
        self.null_image = nn.Parameter(torch.zeros(1, 1, dim))
        self.null_crop = nn.Parameter(torch.zeros(1, 1, dim))
        self.image_pos = nn.Parameter(torch.zeros(1, (image_size // 8) ** 2, dim))
        self.crop_pos = nn.Parameter(torch.zeros(1, (crop_size // 8) ** 2, dim))
        self.x_in = nn.Linear(token_dim, dim)
        self.cond_in = nn.Linear(COND_DIM, dim)
        self.label = nn.Embedding(n_labels, dim)
        self.joint = nn.Embedding(n_joint_types, dim)
        self.category = nn.Embedding(n_categories, dim)
        self.aspect = nn.Linear(3, dim)
        self.root = nn.Embedding(2, dim)
        self.time = nn.Sequential(nn.Linear(64, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.blocks = nn.ModuleList(
            Block(dim, heads, hierarchical, part_images) for _ in range(depth)
        )
        self.out_norm = nn.LayerNorm(dim, elementwise_affine=False)
        self.out = nn.Linear(dim, token_dim)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    # --- conditioning ------------------------------------------------------------------------
    def encode_images(self, image: torch.Tensor, crops: torch.Tensor):
        """(B, 3, S, S) photo and (B, N, 3, s, s) crops -> patch features (once per photo)."""
        b, n = crops.shape[:2]
        image_f = self.encoder(image) + self.image_pos
        crop_f = None
        if self.config.part_images:
            crop_f = self.encoder(crops.flatten(0, 1)) + self.crop_pos
            crop_f = crop_f.reshape(b, n, crop_f.shape[1], -1)
        return image_f, crop_f

    def forward(self, x, sigma, batch: dict, features=None, drop: torch.Tensor | None = None):
        """Velocity at noise level `sigma` (B,). `batch`: category (B,), aspect (B, 3), label,
        joint, parent (B, N; parent -1 for the root and padding), cond (B, N, COND_DIM), mask
        (B, N) bool, image (B, 3, S, S), crops (B, N, 3, s, s). `drop` (B,) bool replaces the
        image features by the null ones (condition dropout / the unconditional branch)."""
        b, n, _ = x.shape
        mask = batch["mask"]
        image_f, crop_f = (
            features if features is not None else self.encode_images(batch["image"], batch["crops"])
        )
        if image_f.shape[0] != b:  # one photo, K hypotheses
            image_f = image_f.expand(b, -1, -1)
            crop_f = None if crop_f is None else crop_f.expand(b, -1, -1, -1)
        if drop is not None:
            keep = (~drop).float()[:, None, None]
            image_f = keep * image_f + (1 - keep) * self.null_image
            if crop_f is not None:
                crop_f = keep[..., None] * crop_f + (1 - keep[..., None]) * self.null_crop
        crops = None if crop_f is None else crop_f.reshape(b * n, crop_f.shape[2], -1)
        is_root = (batch["parent"] < 0) & mask
        h = (
            self.x_in(x)
            + self.cond_in(batch["cond"])
            + self.label(batch["label"])
            + self.joint(batch["joint"])
            + self.root(is_root.long())
        )
        c = self.time(_timestep_embedding(sigma * 1000.0, 64)) + self.category(batch["category"])
        c = c + self.aspect(batch["aspect"])
        up, down, keys = _masks(batch["parent"], mask, self.config.heads)
        for block in self.blocks:
            h = block(h, c, crops, image_f, up, down, keys)
        return self.out(self.out_norm(h))


def _timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-torch.log(torch.tensor(10000.0)) * torch.arange(half) / half).to(t.device)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def _masks(parent: torch.Tensor, mask: torch.Tensor, heads: int):
    """Additive attention masks (B, 1, N, N): child->parent, parent->children, global keys.
    Every row allows at least its own position, so no row is fully masked."""
    b, n = parent.shape
    eye = torch.eye(n, dtype=torch.bool, device=parent.device)[None].expand(b, n, n)
    idx = torch.arange(n, device=parent.device)
    is_parent = (parent[:, :, None] == idx[None, None, :]) & mask[:, :, None]  # [i, j]: j = par(i)
    up = eye | is_parent
    down = eye | is_parent.transpose(1, 2)
    keys = eye | (mask[:, None, :].expand(b, n, n))

    def additive(allowed):
        out = torch.zeros(b, 1, n, n, device=parent.device)
        return out.masked_fill(~allowed[:, None], float("-inf"))

    return additive(up), additive(down), additive(keys)
