"""The embedded parser: a few training steps on a tiny synth dataset, resume, then parse."""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("torch")
pytest.importorskip("diffusers")

from spark_blender.perception.embedded import targets as T  # noqa: E402
from spark_blender.perception.embedded.parser import EmbeddedParser, load_photo  # noqa: E402
from spark_blender.perception.errors import PerceptionError  # noqa: E402
from spark_blender.perception.parsers import get_parser  # noqa: E402
from spark_blender.synth.dataset import SynthConfig, SynthDataset, write_dataset  # noqa: E402
from spark_blender.training import train_parser  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("embedded")
    config = SynthConfig(categories=("StorageFurniture", "Laptop"), n=2, seed=13, size=96,
                         random_poses=1, shard_size=2)  # fmt: skip
    write_dataset(config, root / "data")
    return root


def _train(root, steps: int, resume: bool = False) -> int:
    p = argparse.ArgumentParser()
    train_parser.add_arguments(p)
    argv = ["--data", str(root / "data"), "--out", str(root / "model"), "--work",
            str(root / "work"), "--steps", str(steps), "--batch-size", "4", "--seed", "5",
            "--checkpoint-every", "2", "--workers", "0"]  # fmt: skip
    return train_parser.run(p.parse_args(argv + (["--resume"] if resume else [])))


def test_train_resume_and_parse(tiny, tmp_path):
    assert _train(tiny, 2) == 0
    assert (tiny / "model" / "config.json").is_file()
    assert any(p.suffix == ".safetensors" for p in (tiny / "model").iterdir())
    assert _train(tiny, 3, resume=True) == 0
    losses = [
        json.loads(line) for line in (tiny / "work" / "losses.jsonl").read_text().splitlines()
    ]
    assert [r["step"] for r in losses] == [1, 2, 3]  # resumed at 2, not restarted
    assert all(math.isfinite(r["total"]) for r in losses)
    config = json.loads((tiny / "model" / "config.json").read_text())
    assert set(config["height_prior_m"]) == {"StorageFurniture", "Laptop"}

    sample = SynthDataset(tiny / "data")[0]
    photo = Image.fromarray(sample["rgba"][0])  # RGBA: the background may be transparent
    parser = get_parser("embedded", {"model_path": str(tiny / "model")})
    assert isinstance(parser, EmbeddedParser)
    # an opaque photo (no alpha): the mask comes from the model
    opaque = photo.convert("RGB")
    try:
        result = parser.parse(opaque)
    except PerceptionError as exc:  # an untrained model may find no object: a clear error
        assert "no object found" in str(exc)
    else:
        assert result.parser == "embedded"
        assert result.mask.mode == "L" and result.mask.size == opaque.size
        assert len(result.category_probs) == 3
        assert result.features["global"].ndim == 1
        assert result.features["patches"].ndim == 3
        for name, mask in result.part_masks.items():
            assert mask.size == opaque.size and name in result.part_images
        result.save(tmp_path / "out")
        assert (tmp_path / "out" / "mask.png").is_file()


def test_init_copies_matching_weights_and_leaves_new_heads_fresh(tmp_path, capsys):
    import torch

    from spark_blender.perception.embedded.model import StructureParserModel

    small = dict(image_size=64, widths=(8, 8, 16, 16), dim=32, slots=4, categories=("A", "B"),
                 labels=("door",), types=T.TYPES)  # fmt: skip
    torch.manual_seed(1)
    saved = StructureParserModel(**small)
    saved.save_pretrained(tmp_path / "old", safe_serialization=True)
    torch.manual_seed(2)
    grown = StructureParserModel(**{**small, "slots": 6})  # the count head changes shape
    before = grown.count_head.weight.clone()
    train_parser._initialise(grown, tmp_path / "old")
    assert torch.equal(grown.stem[0].weight, saved.stem[0].weight)
    assert torch.equal(grown.category_head.weight, saved.category_head.weight)
    assert torch.equal(grown.count_head.weight, before)  # 7 classes, not 5: left fresh
    assert "fresh: count_head, queries" in capsys.readouterr().out


def test_real_alpha_is_the_mask(tiny):
    rgba = np.zeros((80, 100, 4), np.uint8)
    rgba[20:60, 30:70] = (180, 120, 60, 255)
    parser = EmbeddedParser()
    parser.options.model_path = str(tiny / "model")
    if not (tiny / "model" / "config.json").is_file():
        pytest.skip("needs the model of test_train_resume_and_parse")
    result = parser.parse(Image.fromarray(rgba, "RGBA"))
    mask = np.asarray(result.mask) > 127
    assert mask.sum() == 40 * 40 and mask[20:60, 30:70].all()


def test_a_mirrored_photo_gets_the_same_category_and_the_opposite_azimuth():
    # The mirrored-crop average makes the view-independent heads mirror-invariant.
    from spark_blender.perception.embedded.parser import DEFAULT_MODEL

    if not (DEFAULT_MODEL / "config.json").is_file():
        pytest.skip("needs the shipped parser weights in models/parser")
    rgba = np.zeros((96, 128, 4), np.uint8)
    rgba[20:80, 34:94] = (170, 130, 90, 255)
    rgba[30:70, 40:60] = (60, 60, 200, 255)  # an off-centre panel: the photo is not symmetric
    parser = EmbeddedParser()
    one = parser.parse(Image.fromarray(rgba, "RGBA"))
    other = parser.parse(Image.fromarray(rgba[:, ::-1].copy(), "RGBA"))
    assert [c for c, _ in one.category_probs] == [c for c, _ in other.category_probs]
    for (_, a), (_, b) in zip(one.category_probs, other.category_probs, strict=True):
        assert a == pytest.approx(b, abs=1e-5)
    assert one.coarse.camera.azimuth_deg == pytest.approx(
        -other.coarse.camera.azimuth_deg, abs=1e-4
    )
    assert one.coarse.size_m == pytest.approx(other.coarse.size_m, rel=1e-5)
    parser.options.mirror = False  # one view: the two photos are two different inputs
    single = parser.parse(Image.fromarray(rgba, "RGBA"))
    assert single.category_probs != one.category_probs


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.write_text("not an image"), "not an image PIL can read"),
        (lambda p: p.write_bytes(b""), "is empty"),
        (lambda p: Image.new("RGB", (1, 1)).save(p), "at least 16 pixels"),
        (lambda p: p.mkdir(), "is a folder"),
    ],
)
def test_bad_inputs_are_one_clear_error(tmp_path, make, message):
    path = tmp_path / "bad.png"
    make(path)
    with pytest.raises(PerceptionError, match=message):
        load_photo(path)


@pytest.mark.parametrize("mode", ["CMYK", "I;16", "P", "LA"])
def test_other_pixel_modes_are_converted_as_every_verb_converts_them(tmp_path, mode):
    path = tmp_path / ("photo.jpg" if mode == "CMYK" else "photo.png")
    Image.new(mode, (32, 24)).save(path)
    picture = load_photo(path)
    assert picture.mode in ("RGB", "RGBA") and picture.size == (32, 24)


def test_truncated_png_is_a_clear_error(tmp_path):
    path = tmp_path / "cut.png"
    Image.fromarray(np.random.default_rng(3).integers(0, 255, (64, 64, 3), np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:400])
    with pytest.raises(PerceptionError, match="truncated|cannot be decoded"):
        load_photo(path)


def test_mirror_swaps_hinge_sides():
    record = {
        "links": [
            {"name": "base", "label": "base", "mask_id": 1, "bbox_min": [-0.5, -0.2, 0],
             "bbox_max": [0.5, 0.2, 1.0]},
            {"name": "door_0", "label": "door", "mask_id": 2, "bbox_min": [-0.5, -0.22, 0.0],
             "bbox_max": [0.0, -0.2, 1.0]},
        ],
        "joints": [{"name": "joint_0", "type": "revolute", "label": "door", "parent": "base",
                    "child": "door_0", "pivot": [-0.5, -0.2, 0.0], "axis": [0, 0, -1],
                    "lower": 0.0, "upper": 1.5}],
    }  # fmt: skip
    left = T.encode_parts(record, {"joint_0": 0.75})[0]
    right = T.encode_parts(T.mirror_record(record), {"joint_0": 0.75})[0]
    assert T.AXES[left.axis] == "-Z" and T.AXES[right.axis] == "+Z"
    assert left.observed == pytest.approx(0.5) and right.observed == pytest.approx(0.5)
    pivot_l, _ = T.decode_joint(left.box3d, left.axis, left.pivot, left.pivot_offset)
    pivot_r, _ = T.decode_joint(right.box3d, right.axis, right.pivot, right.pivot_offset)
    assert pivot_l[0] == pytest.approx(-0.5) and pivot_r[0] == pytest.approx(0.5)
    assert pivot_l[1] == pytest.approx(pivot_r[1])


def test_batches_mix_folders_and_fill_from_small_datasets(tiny, tmp_path):
    """A dataset with fewer views per round than a batch still yields full batches (it used to
    loop for ever), and several synth folders feed one stream."""
    from spark_blender.training.parser_data import batches

    config = SynthConfig(categories=("Laptop",), n=1, seed=14, size=96, random_poses=0,
                         shard_size=1)  # fmt: skip
    write_dataset(config, tmp_path / "one")  # 1 sample x 2 poses: 2 views a round
    stream = batches([tiny / "data", tmp_path / "one"], 8, 64, np.random.default_rng(0))
    categories = set()
    for _ in range(6):
        batch = next(stream)
        assert batch.images.shape[0] == 8
        categories.update(int(c) for c in batch.category)
    assert {T.CATEGORIES[c] for c in categories} == {"StorageFurniture", "Laptop"}
    alone = next(batches(tmp_path / "one", 8, 64, np.random.default_rng(0)))
    assert alone.images.shape[0] == 8


def test_init_carries_category_and_label_rows_over_by_name(tmp_path):
    import torch

    from spark_blender.perception.embedded.model import StructureParserModel

    small = dict(image_size=64, widths=(8, 8, 16, 16), dim=32, slots=4, types=T.TYPES)
    torch.manual_seed(1)
    saved = StructureParserModel(**small, categories=("A", "B"), labels=("door", "lid"))
    saved.save_pretrained(tmp_path / "old", safe_serialization=True)
    torch.manual_seed(2)
    grown = StructureParserModel(**small, categories=("A", "C", "B"), labels=("lid", "key"))
    fresh_c = grown.category_head.weight[1].clone()
    fresh_key = grown.label_head.weight[1].clone()
    train_parser._initialise(grown, tmp_path / "old")
    assert torch.equal(grown.category_head.weight[0], saved.category_head.weight[0])  # A
    assert torch.equal(grown.category_head.weight[2], saved.category_head.weight[1])  # B
    assert torch.equal(grown.category_head.bias[2], saved.category_head.bias[1])
    assert torch.equal(grown.category_head.weight[1], fresh_c)  # C: new, as initialised
    assert torch.equal(grown.label_head.weight[0], saved.label_head.weight[1])  # lid
    assert torch.equal(grown.label_head.weight[1], fresh_key)


def test_the_classifier_names_the_data_engines_categories_in_its_order():
    from spark_blender.perception.schema import CATEGORIES as PARTNET
    from spark_blender.synth import CATEGORIES as ENGINE

    assert T.CATEGORIES == ENGINE  # what the parser learns is what the data engine makes
    assert set(T.CATEGORIES) == set(PARTNET)  # ... and that is all of PartNet-Mobility


def test_objects_with_more_parts_than_slots_train(tmp_path):
    """A keyboard shows ~20 moving keys, more than the model's 12 slots: the unmatched parts get
    no slot, and training goes on (it used to index the loss with uninitialised memory)."""
    config = SynthConfig(categories=("Keyboard",), n=2, seed=14, size=96, shard_size=2)
    write_dataset(config, tmp_path / "data")
    counts = [len(SynthDataset(tmp_path / "data")[i]["meta"]["joints"]) for i in range(2)]
    assert max(counts) > 12
    assert _train(tmp_path, 2) == 0
    rows = (tmp_path / "work" / "losses.jsonl").read_text().splitlines()
    assert all(math.isfinite(json.loads(line)["total"]) for line in rows)


def test_rest_share_sets_how_often_the_rest_view_is_drawn(tiny):
    from collections import Counter

    from spark_blender.training.parser_data import _views

    ds = SynthDataset(tiny / "data")
    shards = [(ds, n) for n in range(len(ds.manifest["shards"]))]

    def drawn(share, rounds=30):
        rng = np.random.default_rng(3)
        return Counter(v[3] for _ in range(rounds) for v in _views(shards, rng, 2, 2, share))

    assert set(drawn(1.0)) == {"rest"}
    assert "rest" not in drawn(0.0)
    alike = drawn(None)
    assert set(alike) == {"rest", "moved", "random_0"}
    assert drawn(0.8)["rest"] > alike["rest"]


def test_photo_pose_is_the_view_nearest_the_observed_configuration():
    from spark_blender.training.parser_data import photo_pose

    meta = {
        "joints": [{"name": "screen", "lower": 0.0, "upper": 2.0}],
        "observed_configuration": {"screen": 1.6},
        "poses": {"rest": {}, "moved": {"screen": 1.5}, "random_0": {"screen": 0.4}},
    }
    assert photo_pose(meta, ["rest", "moved", "random_0"]) == "moved"
    meta["observed_configuration"] = {}  # photographed closed (and datasets made before it)
    assert photo_pose(meta, ["rest", "moved", "random_0"]) == "rest"


def test_object_crops_frame_the_object_as_the_second_pass_does(tiny):
    from spark_blender.training.parser_data import make_item

    ds = SynthDataset(tiny / "data")
    sample = ds[0]
    rgba, ids = sample["rgba"][0], sample["mask"][0]
    rng = np.random.default_rng(0)
    plain = [make_item(rgba, ids, sample["meta"], "rest", 64, rng)["fg"].mean() for _ in range(12)]
    framed = [
        make_item(rgba, ids, sample["meta"], "rest", 64, rng, True, True, True)["fg"].mean()
        for _ in range(12)
    ]
    assert np.median(framed) > 1.3 * np.median(plain)
    side = max(np.ptp(np.nonzero(ids)[0]), np.ptp(np.nonzero(ids)[1])) + 1
    assert side / ids.shape[0] < 0.8, "the engine frames the object loosely"


def test_training_runs_with_photo_views_textures_and_crops(tiny, tmp_path):
    p = argparse.ArgumentParser()
    train_parser.add_arguments(p)
    argv = ["--data", str(tiny / "data"), "--out", str(tmp_path / "model"), "--steps", "2",
            "--batch-size", "4", "--seed", "6", "--workers", "0", "--photo-share", "0.5",
            "--texture", "--crop", "--reflect", "0.5"]  # fmt: skip
    assert train_parser.run(p.parse_args(argv)) == 0
    assert (tmp_path / "model" / "config.json").is_file()


def test_the_count_is_the_heads_mode_or_its_median():
    from spark_blender.perception.embedded.parser import EmbeddedOptions, decode_count

    # 0.40 on 12 parts, the rest spread over 1-3: the mode is 12, the median 3
    logits = np.log(np.array([1e-6, 0.2, 0.2, 0.2, *[1e-6] * 8, 0.4]))
    assert decode_count(logits) == 12
    assert decode_count(logits, "median") == 3
    assert decode_count(np.log(np.array([0.1, 0.6, 0.3])), "median") == 1
    with pytest.raises(PerceptionError, match="count must be"):
        EmbeddedOptions(count="mean")


def test_loader_processes_each_draw_their_own_batches(tiny):
    """With --workers N each loader process has its own stream: the same seed in every process
    would hand the model the same batch N times over."""
    import torch

    stream = train_parser._stream([tiny / "data"], 4, 64, [5, 0])
    loader = iter(torch.utils.data.DataLoader(stream, batch_size=None, num_workers=2))
    first, second = next(loader), next(loader)  # one from each process, in turn
    # the masks and the azimuths come from the stream's own generator alone (no pixel noise)
    assert not (torch.equal(first.fg, second.fg) and torch.equal(first.azimuth, second.azimuth))


def test_reflections_follow_the_rendered_surfaces(tiny):
    """The normals a view's (float16) depth map gives are the surface's: a tilted plane seen
    by the data engine's camera; a mirror-like link changes only its own pixels."""
    from spark_blender.core.camera import Camera
    from spark_blender.training.reflections import camera_points, normals, reflective

    camera = {"width": 96, "height": 96, "fx": 120.0, "fy": 120.0, "cx": 48.0, "cy": 48.0,
              "cam_to_world": np.eye(4).tolist()}  # fmt: skip
    plane = np.array([0.3, 0.5, 0.81])
    plane /= np.linalg.norm(plane)  # facing the camera, which looks along -Z
    v, u = np.mgrid[0:96, 0:96] + 0.5
    rays = np.stack([(u - 48) / 120, -(v - 48) / 120, -np.ones_like(u)], -1)
    depth = (-2.0 / (rays @ plane)).astype(np.float16).astype(np.float32)  # plane . P = -2
    ids = np.ones((96, 96), np.uint8)
    n = normals(camera_points(depth, Camera.from_dict(camera)), ids)
    angle = np.degrees(np.arccos(np.clip(n @ plane, -1, 1)))
    assert np.median(angle) < 1.0 and np.percentile(angle, 95) < 5.0

    sample = SynthDataset(tiny / "data")[0]
    ids, depth, camera = sample["mask"][0], sample["depth"][0], sample["meta"]["camera"]
    inside = ids > 0
    rgb = sample["rgba"][0][..., :3].astype(np.float32) / 255
    out = reflective(rgb, ids, depth, Camera.from_dict(camera), np.random.default_rng(1), share=1.0)
    assert np.array_equal(out[~inside], rgb[~inside])
    assert np.abs(out[inside] - rgb[inside]).mean() > 0.02
    assert out.min() >= 0 and out.max() <= 1
