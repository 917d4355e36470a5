"""Dataset writer, loader and `spark-articulate synth`: shards, manifest, reproducibility."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from spark_blender.cli import main
from spark_blender.synth.dataset import SynthConfig, SynthDataset, write_dataset

CONFIG = SynthConfig(categories=("Box", "Door", "Microwave"), n=2, seed=5, size=48,
                     random_poses=1, shard_size=4)  # fmt: skip


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_same_seed_writes_the_same_bytes_and_another_seed_does_not(tmp_path):
    write_dataset(CONFIG, tmp_path / "a")
    write_dataset(CONFIG, tmp_path / "b")
    other = SynthConfig(**{**CONFIG.__dict__, "seed": 6})
    write_dataset(other, tmp_path / "c")
    a, b, c = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert a == b
    assert a["shard_00000.zip"] != c["shard_00000.zip"]


def test_loader_reads_every_sample_with_its_poses_and_labels(tmp_path):
    manifest = json.loads(write_dataset(CONFIG, tmp_path / "ds").read_text())
    assert manifest["samples"] == 6 and [s["samples"] for s in manifest["shards"]] == [4, 2]
    assert manifest["poses"] == ["rest", "moved", "random_0"]
    ds = SynthDataset(tmp_path / "ds")
    assert len(ds) == 6 and ds.verify() == []
    item = ds[4]
    assert item["rgba"].shape == (3, 48, 48, 4) and item["rgba"].dtype == np.uint8
    assert item["mask"].shape == (3, 48, 48) and item["depth"].dtype == np.float32
    meta = item["meta"]
    assert meta["category"] == "Microwave" and meta["key"] == "Microwave_000000"
    labels = {link["mask_id"]: link["label"] for link in meta["links"]}
    assert set(np.unique(item["mask"])) - {0} <= set(labels)
    assert {j["label"] for j in meta["joints"]} >= {"door"}
    assert meta["camera"]["width"] == 48 and len(meta["camera"]["cam_to_world"]) == 4
    with pytest.raises(IndexError):
        ds[6]


def test_any_sample_can_be_rebuilt_alone(tmp_path):
    from spark_blender.synth.dataset import make_sample

    write_dataset(CONFIG, tmp_path / "ds")
    stored = SynthDataset(tmp_path / "ds")[3]
    sample, _ = make_sample(CONFIG, "Door", 1)
    assert np.array_equal(np.stack([v.rgba for v in sample.views]), stored["rgba"])


def test_cli_writes_a_dataset_and_rejects_bad_input_in_one_line(tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["synth", "--categories", "Laptop", "Bucket", "--n", "2", "--out", str(out),
                 "--size", "32", "--urdf"]) == 0  # fmt: skip
    assert len(SynthDataset(out)) == 4
    folder = out / "urdf" / "Laptop_000000"
    assert list(folder.glob("*.urdf")) and (folder / "preview.png").is_file()
    camera = json.loads((folder / "camera.json").read_text())
    assert camera == {**SynthDataset(out)[0]["meta"]["camera"], "observed_configuration": {}}
    # With the observed pose rendered, the folder is a case photographed at that pose.
    posed = tmp_path / "posed"
    assert main(["synth", "--categories", "Laptop", "--n", "1", "--out", str(posed), "--size",
                 "32", "--urdf", "--observed-pose"]) == 0  # fmt: skip
    meta = SynthDataset(posed)[0]["meta"]
    camera = json.loads((posed / "urdf" / "Laptop_000000" / "camera.json").read_text())
    assert camera["observed_configuration"] == meta["observed_configuration"] != {}
    preview = np.asarray(Image.open(posed / "urdf" / "Laptop_000000" / "preview.png"))
    assert np.array_equal(preview, SynthDataset(posed)[0]["rgba"][meta_view(posed, "observed")])
    capsys.readouterr()
    assert (
        main(["synth", "--categories", "Spaceship", "--n", "1", "--out", str(tmp_path / "x")]) == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown category 'Spaceship'" in err[0]
    assert not (tmp_path / "x").exists()
    (tmp_path / "file").write_text("x")
    for bad, message in (
        (["--seed", "-1"], "--seed: must be a whole number of at least 0"),
        (["--size", "4"], "--size"),
        (["--out", str(tmp_path / "file")], "is a file"),
    ):
        argv = ["synth", "--categories", "Box", "--n", "1", "--out", str(tmp_path / "y"), *bad]
        try:  # numeric options are refused by argparse where they are parsed (exit 2)
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
        assert code == 2
        assert message in capsys.readouterr().err
    # An existing dataset is never replaced without --force, and stays intact.
    before = _files(out)
    assert main(["synth", "--categories", "Box", "--n", "1", "--out", str(out)]) == 2
    assert _files(out) == before


def meta_view(root, pose: str) -> int:
    return SynthDataset(root).poses.index(pose)
