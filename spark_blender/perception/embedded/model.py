"""The embedded structure parser's network: a small CNN, a light mask decoder, part slots.

Diffusers style: `StructureParserModel(ModelMixin, ConfigMixin)`; `save_pretrained(folder)`
writes ``config.json`` + ``diffusion_pytorch_model.safetensors`` and `from_pretrained(folder)`
reads them back.

Input: a (B, 3, S, S) RGB batch in [0, 1] (S = ``image_size``, 128 by default). Backbone: a
stride-2 stem and three residual stages (S/2 .. S/16). Heads:

- global (pooled deepest features): category logits, azimuth and elevation (bins + offsets),
  aspect (log w/h, log d/h), the number of movable parts (a class 0 .. ``slots``: the part
  count, which the slots' exists scores alone learned poorly; they rank the slots);
- foreground mask: a top-down decoder over every stage, logits at S/2;
- part slots (DETR style): ``slots`` learned queries, a small transformer decoder over the
  S/8 feature grid, per slot: exists, label, joint type, axis class, pivot class + offset,
  2D box (cx, cy, w, h), 3D box (normalised object frame), limits, observed fraction, a mask
  embedding (dot product with an S/4 pixel embedding) and a parent pointer (over ``base`` and
  the other slots).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from diffusers import ConfigMixin, ModelMixin
from diffusers.configuration_utils import register_to_config
from torch import nn


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class _Block(nn.Module):
    """Residual block: two 3x3 convolutions, the first possibly strided."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = _conv(cin, cout, stride)
        self.conv2 = nn.Sequential(nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.skip = (
            nn.Identity()
            if stride == 1 and cin == cout
            else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv2(self.conv1(x)) + self.skip(x))


def _mlp(cin: int, hidden: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(cin, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, cout))


def _positions(h: int, w: int, dim: int, device) -> torch.Tensor:
    """Fixed 2D sine position encoding, (h * w, dim)."""
    quarter = dim // 4
    freq = torch.exp(torch.arange(quarter, device=device) * (-math.log(100.0) / quarter))
    ys = torch.linspace(0, 1, h, device=device)[:, None] * freq[None] * 2 * math.pi
    xs = torch.linspace(0, 1, w, device=device)[:, None] * freq[None] * 2 * math.pi
    y = torch.cat([ys.sin(), ys.cos()], 1)[:, None, :].expand(h, w, 2 * quarter)
    x = torch.cat([xs.sin(), xs.cos()], 1)[None, :, :].expand(h, w, 2 * quarter)
    return torch.cat([y, x], 2).reshape(h * w, 4 * quarter)


class StructureParserModel(ModelMixin, ConfigMixin):
    config_name = "config.json"

    @register_to_config
    def __init__(
        self,
        image_size: int = 128,
        widths: tuple[int, ...] = (16, 32, 64, 128),
        dim: int = 128,
        slots: int = 12,
        decoder_layers: int = 2,
        heads: int = 4,
        mask_dim: int = 32,
        categories: tuple[str, ...] = (),
        labels: tuple[str, ...] = (),
        types: tuple[str, ...] = (),
        axes: int = 6,
        pivots: int = 5,
        azimuth_bins: int = 12,
        elevation_bins: int = 8,
        azimuth_range: tuple[float, float] = (-60.0, 60.0),
        elevation_range: tuple[float, float] = (-10.0, 50.0),
        height_prior_m: dict | None = None,  # category -> median rest height (metres)
        background_grey: int = 200,
    ):
        super().__init__()
        w1, w2, w3, w4 = widths
        self.stem = _conv(3, w1, 2)  # S/2
        self.stage2 = _Block(w1, w2, 2)  # S/4
        self.stage3 = nn.Sequential(_Block(w2, w3, 2), _Block(w3, w3, 1))  # S/8
        self.stage4 = nn.Sequential(_Block(w3, w4, 2), _Block(w4, w4, 1))  # S/16
        # global heads
        self.global_head = _mlp(w4, 256, dim)
        self.category_head = nn.Linear(dim, len(categories))
        self.azimuth_head = nn.Linear(dim, 2 * azimuth_bins)
        self.elevation_head = nn.Linear(dim, 2 * elevation_bins)
        self.aspect_head = nn.Linear(dim, 2)
        self.count_head = nn.Linear(dim, slots + 1)
        # top-down decoder (foreground mask and the per-pixel part embedding)
        self.lat4 = nn.Conv2d(w4, 64, 1)
        self.lat3 = nn.Conv2d(w3, 64, 1)
        self.lat2 = nn.Conv2d(w2, 64, 1)
        self.lat1 = nn.Conv2d(w1, 16, 1)
        self.smooth2 = _conv(64, 64)
        self.down1 = nn.Conv2d(64, 16, 1)
        self.smooth1 = _conv(16, 16)
        self.mask_out = nn.Conv2d(16, 1, 1)
        self.pixel_embed = nn.Conv2d(64, mask_dim, 1)
        # part slots
        self.memory_proj = nn.Conv2d(w3, dim, 1)
        self.queries = nn.Embedding(slots, dim)
        layer = nn.TransformerDecoderLayer(dim, heads, 2 * dim, 0.0, batch_first=True)
        self.decoder = nn.TransformerDecoder(layer, decoder_layers)
        self.exists_head = nn.Linear(dim, 1)
        self.label_head = nn.Linear(dim, len(labels))
        self.type_head = nn.Linear(dim, len(types))
        self.axis_head = nn.Linear(dim, axes)
        self.pivot_head = nn.Linear(dim, pivots)
        self.regress_head = _mlp(dim, dim, 2 + 4 + 6 + 2 + 1)  # offset, box2d, box3d, lim, obs
        self.mask_head = _mlp(dim, dim, mask_dim)
        self.parent_query = nn.Linear(dim, dim)
        self.parent_key = nn.Linear(dim, dim)
        self.base_key = nn.Parameter(torch.zeros(dim))

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        x = (images - 0.45) / 0.25
        f1 = self.stem(x)
        f2 = self.stage2(f1)
        f3 = self.stage3(f2)
        f4 = self.stage4(f3)
        out: dict[str, torch.Tensor] = {}
        g = self.global_head(f4.mean((2, 3)))
        out["global"] = g
        out["category"] = self.category_head(g)
        nb_a, nb_e = self.config.azimuth_bins, self.config.elevation_bins
        az = self.azimuth_head(g)
        el = self.elevation_head(g)
        out["azimuth_bins"], out["azimuth_offsets"] = az[:, :nb_a], torch.tanh(az[:, nb_a:]) / 2
        out["elevation_bins"], out["elevation_offsets"] = el[:, :nb_e], torch.tanh(el[:, nb_e:]) / 2
        out["aspect"] = self.aspect_head(g)
        out["count"] = self.count_head(g)
        # decoder
        p3 = self.lat3(f3) + F.interpolate(self.lat4(f4), size=f3.shape[2:], mode="nearest")
        p2 = self.smooth2(self.lat2(f2) + F.interpolate(p3, size=f2.shape[2:], mode="nearest"))
        p1 = self.smooth1(
            self.lat1(f1) + F.interpolate(self.down1(p2), size=f1.shape[2:], mode="bilinear")
        )
        out["mask"] = self.mask_out(p1)[:, 0]  # logits at S/2
        pixels = self.pixel_embed(p2)  # (B, M, S/4, S/4)
        # slots
        memory = self.memory_proj(f3)
        b, d, h, w = memory.shape
        memory = memory.flatten(2).transpose(1, 2) + _positions(h, w, d, memory.device)[None]
        queries = self.queries.weight[None].expand(b, -1, -1)
        slots = self.decoder(queries, memory)
        out["patches"] = memory.reshape(b, h, w, d)
        out["slots"] = slots
        out["exists"] = self.exists_head(slots)[..., 0]
        out["label"] = self.label_head(slots)
        out["type"] = self.type_head(slots)
        out["axis"] = self.axis_head(slots)
        out["pivot"] = self.pivot_head(slots)
        r = self.regress_head(slots)
        out["pivot_offset"] = torch.tanh(r[..., 0:2]) / 2
        out["box2d"] = torch.sigmoid(r[..., 2:6])  # cx, cy, w, h
        centre = torch.tanh(r[..., 6:9]) * torch.tensor([0.7, 0.7, 0.7], device=r.device)
        centre = centre + torch.tensor([0.0, 0.0, 0.5], device=r.device)
        out["box3d"] = torch.cat([centre, torch.sigmoid(r[..., 9:12]) * 1.2], -1)
        out["limits"] = r[..., 12:14]
        out["observed"] = torch.tanh(r[..., 14])
        out["part_masks"] = torch.einsum("bsm,bmhw->bshw", self.mask_head(slots), pixels)
        q = self.parent_query(slots)
        keys = torch.cat([self.base_key[None, None].expand(b, 1, d), self.parent_key(slots)], 1)
        parent = torch.einsum("bsd,bkd->bsk", q, keys) / math.sqrt(d)
        own = torch.eye(slots.shape[1], dtype=torch.bool, device=slots.device)
        own = F.pad(own, (1, 0), value=False)  # slot i may not point at key i + 1 (itself)
        out["parent"] = parent.masked_fill(own[None], -1e4)
        return out
