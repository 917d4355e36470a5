"""Part DiT: a few training steps on a tiny synth dataset, then batched sampling and decoding."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")


def test_masks_never_empty_rows():
    from spark_blender.generation.part_dit import _masks

    parent = torch.tensor([[-1, 0, 0, 1, -1]])
    mask = torch.tensor([[True, True, True, True, False]])
    for m in _masks(parent, mask, 2):
        assert torch.isfinite(m).any(-1).all()
    up = _masks(parent, mask, 2)[0][0, 0]
    assert torch.isfinite(up[3, 1]) and not torch.isfinite(up[3, 2])  # child sees its parent only


def test_train_resume_and_generate(tmp_path):
    from spark_blender.generation.sample import generate
    from spark_blender.perception.schema import CameraEstimate, CoarsePart, CoarseURDF
    from spark_blender.synth.dataset import SynthConfig, write_dataset
    from spark_blender.training import train_dit

    data = tmp_path / "data"
    write_dataset(SynthConfig(categories=("Box", "Microwave"), n=2, seed=7, size=48), data)
    parser = argparse.ArgumentParser()
    train_dit.add_arguments(parser)
    out = tmp_path / "dit"
    common = ["--data", str(data), "--out", str(out), "--batch", "2", "--dim", "32", "--depth", "1"]
    assert train_dit.run(parser.parse_args([*common, "--steps", "2"])) == 0
    assert train_dit.run(parser.parse_args([*common, "--steps", "3", "--resume"])) == 0
    assert (out / "diffusion_pytorch_model.safetensors").is_file()
    assert (out / "config.json").is_file()
    coarse = CoarseURDF(
        "Box",
        [0.4, 0.3, 0.25],
        CameraEstimate(),
        [CoarsePart("lid", "lid", "base", "revolute", [-1, 0, 0], [0, 0.5, 1.0], [0, 1.6],
                    [0.2, 0.1, 0.8, 0.4])],
    )  # fmt: skip
    image = np.full((48, 48, 3), 200, np.uint8)
    objects = generate(coarse, image, {}, k=3, seed=1, model_dir=str(out))
    assert 1 <= len(objects) <= 3
    for obj in objects:
        assert [link.name for link in obj.links] == ["base", "lid"]
        assert obj.joints[0].name == "lid_joint"
        size = obj.links[0].visuals[0].mesh.bounds
        assert np.all(np.isfinite(size))


def test_a_category_the_model_was_not_trained_on_borrows_a_known_one():
    from spark_blender.generation.conditioning import category_id
    from spark_blender.generation.sample import fallback_category, load_model

    known = list(load_model().config.categories)  # the shipped weights' own list
    assert "StorageFurniture" in known
    for category, labels in (("Chair", ["seat", "wheel"]), ("Nothing", [])):
        if category in known:
            continue
        stand_in = fallback_category(category, labels, known)
        assert stand_in in known
        assert category_id(stand_in, known) < len(known)
        assert category_id(category, known) == len(known)  # "unknown", inside the embedding
        assert len(known) < load_model().category.num_embeddings
