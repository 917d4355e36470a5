"""The coarse-URDF schema: the strict JSON Schema, validation, repair and its clear errors;
the prompts and the per-category statistics that fill them."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
import trimesh
from perception_server import GOOD_COARSE

from spark_blender.perception import schema as perception_schema
from spark_blender.perception.category_stats import (
    TABLE,
    _measure,
    category_statistics,
    format_statistics,
)
from spark_blender.perception.errors import CoarseURDFError, redact
from spark_blender.perception.prompts import PROMPT_VERSIONS, load_prompt, render
from spark_blender.perception.schema import (
    CATEGORIES,
    axis_check_json_schema,
    category_json_schema,
    coarse_urdf_from_dict,
    coarse_urdf_json_schema,
    extract_json_object,
    match_category,
    validate_coarse_urdf,
)


def _answer(**changes) -> dict:
    data = copy.deepcopy(GOOD_COARSE)
    data.update(changes)
    return data


def _strict_problems(schema: dict, where: str = "$") -> list[str]:
    """Where `schema` leaves OpenAI's strict subset: open objects, optional fields."""
    found = []
    if schema.get("type") == "object":
        if schema.get("additionalProperties") is not False:
            found.append(f"{where}: additionalProperties")
        if sorted(schema.get("required", [])) != sorted(schema.get("properties", {})):
            found.append(f"{where}: not every property is required")
        for key in ("minimum", "maximum", "minItems", "maxItems", "pattern"):
            assert key not in schema
    for key, sub in schema.get("properties", {}).items():
        found += _strict_problems(sub, f"{where}.{key}")
    if isinstance(schema.get("items"), dict):
        found += _strict_problems(schema["items"], f"{where}[]")
    for option in schema.get("anyOf", []):
        found += _strict_problems(option, where)
    return found


# --- JSON Schema ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "schema", [coarse_urdf_json_schema(), category_json_schema(), axis_check_json_schema()]
)
def test_exported_schemas_are_strict(schema):
    assert _strict_problems(schema) == []


def test_good_answer_matches_the_exported_schema_and_bad_ones_do_not():
    jsonschema = pytest.importorskip("jsonschema")
    schema = coarse_urdf_json_schema()
    jsonschema.validate(GOOD_COARSE, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(_answer(category="Spaceship"), schema)
    extra = _answer()
    extra["parts"][0]["colour"] = "red"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(extra, schema)


def test_category_enum_is_partnet_mobility():
    assert len(CATEGORIES) == 46 and len(set(CATEGORIES)) == 46
    assert coarse_urdf_json_schema()["properties"]["category"]["enum"] == list(CATEGORIES)


# --- validation ----------------------------------------------------------------------------------
def test_joint_types_are_the_cores_and_perception_loads_without_trimesh():
    import subprocess
    import sys

    from spark_blender.core import model

    assert perception_schema.JOINT_TYPES is model.JOINT_TYPES
    assert perception_schema.MOVABLE_TYPES is model.MOVABLE_TYPES
    enum = perception_schema.part_json_schema()["properties"]["joint_type"]["enum"]
    assert enum == [*model.MOVABLE_TYPES, "fixed"]
    code = "import sys, spark_blender.perception.schema; print('trimesh' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_valid_answer_needs_no_repair_and_round_trips():
    validated = validate_coarse_urdf(GOOD_COARSE)
    assert validated.repairs == []
    coarse = validated.coarse
    assert coarse.category == "StorageFurniture" and len(coarse.parts) == 4
    assert coarse.pivot_metres(coarse.part("door_left")) == pytest.approx([-0.376, -0.225, 0.35])
    again = coarse_urdf_from_dict(json.loads(coarse.to_json()))
    assert again == coarse


def test_non_unit_axis_is_normalised():
    data = _answer()
    data["parts"][2]["axis"] = [0.0, -0.2, 0.0]
    validated = validate_coarse_urdf(data)
    assert validated.coarse.part("drawer_top").axis == [0.0, -1.0, 0.0]
    assert validated.repairs == ["part 'drawer_top': axis of length 0.2 normalised"]


def test_parent_that_is_not_a_part_goes_to_base_and_near_misses_are_matched():
    data = _answer()
    data["parts"][0]["parent"] = "cabinet_frame"
    data["parts"][3]["parent"] = "Drawer Top"  # the same part, spelt loosely -> kept
    validated = validate_coarse_urdf(data)
    assert validated.coarse.part("door_left").parent == "base"
    assert validated.coarse.part("handle").parent == "drawer_top"
    assert len(validated.repairs) == 2


def test_cycles_are_broken_and_parents_come_first():
    data = _answer()
    data["parts"][2]["parent"] = "handle"  # drawer_top <-> handle
    validated = validate_coarse_urdf(data)
    coarse = validated.coarse
    parents = sorted([coarse.part("drawer_top").parent, coarse.part("handle").parent])
    assert parents in (["base", "drawer_top"], ["base", "handle"])  # cut once, not twice
    assert any("form a cycle" in r for r in validated.repairs)
    seen = {"base"}
    for part in coarse.parts:
        assert part.parent in seen
        seen.add(part.name)


def test_limits_are_made_to_contain_zero_and_open_positively():
    data = _answer()
    data["parts"][0]["limits"] = [0.3, 1.5]  # does not contain 0
    data["parts"][1]["limits"] = [-1.57, 0.0]  # opens the negative way
    data["parts"][2]["limits"] = [0.35, 0.0]  # reversed
    validated = validate_coarse_urdf(data)
    coarse = validated.coarse
    assert coarse.part("door_left").limits == [0.0, 1.5]
    assert coarse.part("door_right").limits == [0.0, 1.57]
    assert coarse.part("door_right").axis == [-0.0, -0.0, -1.0]  # flipped with its limits
    assert coarse.part("drawer_top").limits == [0.0, 0.35]
    assert len(validated.repairs) == 3


def test_units_are_recovered_degrees_centimetres_pixels():
    data = _answer(size_m=[80, 45, 100])
    data["parts"][0]["limits"] = [0, 90]
    data["parts"][1]["box_2d"] = [160, 144, 256, 288]
    validated = validate_coarse_urdf(data, image_size=(320, 320))
    coarse = validated.coarse
    assert coarse.size_m == pytest.approx([0.8, 0.45, 1.0])
    assert coarse.part("door_left").limits == pytest.approx([0.0, math.pi / 2])
    assert coarse.part("door_right").box_2d == pytest.approx([0.5, 0.45, 0.8, 0.9])


def test_continuous_and_fixed_joints_get_their_own_limits():
    data = _answer()
    data["parts"][0]["joint_type"] = "continuous"
    validated = validate_coarse_urdf(data)
    assert validated.coarse.part("door_left").limits == [-math.pi, math.pi]
    assert validated.coarse.part("handle").limits == [0.0, 0.0]


def test_names_become_unique_and_urdf_safe():
    data = _answer()
    data["parts"][1]["name"] = "door_left"
    data["parts"][2]["name"] = "base"
    data["parts"][3]["parent"] = "base"
    validated = validate_coarse_urdf(data)
    names = [p.name for p in validated.coarse.parts]
    assert len(set(names)) == 4 and "base" not in names
    assert "door_left_2" in names


def test_words_for_categories_and_joint_types_are_understood():
    assert match_category("fridge") == "Refrigerator"
    assert match_category("storage furniture") == "StorageFurniture"
    assert match_category("Microwaves") == "Microwave"
    assert match_category("spaceship") is None
    data = _answer(category="cabinet")
    data["parts"][0]["joint_type"] = "hinge"
    validated = validate_coarse_urdf(data)
    assert validated.coarse.category == "StorageFurniture"
    assert validated.coarse.part("door_left").joint_type == "revolute"


def test_unrepairable_answers_raise_one_error_listing_every_problem():
    data = _answer(category="Spaceship", size_m=[0.8, 0.0, 1.0])
    data["parts"][0]["axis"] = [0, 0, 0]
    data["parts"][1]["axis"] = "up"
    data["parts"][2]["joint_type"] = "telescopic"
    data["parts"][3]["box_2d"] = [0.5, 0.5, 0.5, 0.5]
    with pytest.raises(CoarseURDFError) as caught:
        validate_coarse_urdf(data, source="gpt-4o at test")
    problems = caught.value.problems
    assert len(problems) == 6
    message = str(caught.value)
    assert message.startswith("coarse URDF from gpt-4o at test cannot be repaired: ")
    for text in (
        'category "Spaceship" is not a PartNet-Mobility category',
        "size_m must be positive",
        "part 'door_left' has a zero axis",
        "part 'door_right' axis must be a list of 3 numbers, got \"up\"",
        "part 'drawer_top' has joint type \"telescopic\"",
        "part 'handle' has an empty box_2d",
    ):
        assert text in message
    assert "\n" not in message


def test_missing_fields_and_wrong_shapes_are_named():
    with pytest.raises(CoarseURDFError, match="missing field\\(s\\) size_m, camera"):
        validate_coarse_urdf({"category": "Box", "parts": []})
    with pytest.raises(CoarseURDFError, match="must be a JSON object"):
        validate_coarse_urdf([1, 2])
    with pytest.raises(CoarseURDFError, match="non-finite"):
        validate_coarse_urdf(_answer(size_m=[1.0, float("nan"), 1.0]))


def test_json_is_found_inside_fences_and_chatter():
    assert extract_json_object('```json\n{"a": 1}\n```') == {"a": 1}
    assert extract_json_object('Here it is: {"a": {"b": [1, 2]}} Hope this helps!') == {
        "a": {"b": [1, 2]}
    }
    with pytest.raises(ValueError, match="no JSON object found"):
        extract_json_object("I cannot see an object {in this image")


def test_redact_hides_keys_and_their_echoed_fragments():
    key = "sk-proj-AbCdEfGh12345678IjKlMnOp"
    text = f"Incorrect API key provided: {key[:10]}****{key[-6:]} and Bearer {key}"
    cleaned = redact(text, key)
    assert key not in cleaned and key[:10] not in cleaned and "Bearer [redacted]" in cleaned


# --- prompts -------------------------------------------------------------------------------------
def test_every_prompt_loads_and_every_field_is_filled():
    fields = dict(
        categories="Box, Door",
        category="Box",
        statistics="- lid",
        parts="{}",
        problem="bad",
        schema="{}",
        label="lid",
        name="lid",
        motions="the lid opened",
    )
    for name in PROMPT_VERSIONS:
        prompt = load_prompt(name)
        assert prompt.tag == f"{name}_v{PROMPT_VERSIONS[name]}"
        used = {k: v for k, v in fields.items() if f"${k}" in prompt.text}
        text = render(name, **used)
        assert "$" not in text, name
    with pytest.raises(KeyError):
        render("template", category="Box")  # $statistics missing
    with pytest.raises(KeyError, match="no version 99"):
        load_prompt("template", 99)


def test_template_states_the_canonical_conventions():
    text = load_prompt("template").text
    for convention in ("+Z up", "faces -Y", "[0, 0, -1]", "[0, -1, 0]", "0 inside", "(0 to 1)"):
        assert convention in text


# --- statistics ----------------------------------------------------------------------------------
def test_every_category_has_table_statistics_with_unit_axes_and_limits_containing_zero():
    for category in CATEGORIES:
        stats = TABLE[category]
        assert stats.category == category and min(stats.size_m) > 0
        for part in stats.parts:
            assert np.linalg.norm(part.axis) == pytest.approx(1.0)
            assert part.limits[0] <= 0.0 <= part.limits[1]
            assert part.count[0] <= part.count[1]
    assert set(TABLE) == set(CATEGORIES)
    with pytest.raises(KeyError):
        category_statistics("Spaceship")


def test_statistics_for_the_prompt_read_as_lines():
    text = format_statistics(TABLE["Microwave"])
    assert text.splitlines()[0].startswith("Typical Microwave: about 0.50 m wide")
    assert "- door: 1 per object, revolute, axis [0, 0, -1]" in text
    assert "limits [0, 0.005] m (pushed in)" in text


def test_statistics_come_from_the_synth_generator_when_it_makes_the_category():
    synth = pytest.importorskip("spark_blender.synth")
    if "Microwave" not in getattr(synth, "CATEGORIES", ()):
        pytest.skip("the synth generator makes no Microwave")
    stats = category_statistics("Microwave")
    assert stats.source.startswith("synth (")
    door = [p for p in stats.parts if p.label == "door"]
    assert door and door[0].joint_type == "revolute" and door[0].count[0] >= 1
    # The data engine makes every PartNet-Mobility category: none falls back to the table.
    assert all(category_statistics(c).source.startswith("synth (") for c in CATEGORIES)


def test_statistics_measured_on_articulated_objects():
    """What `category_statistics` computes when the synth generator offers a sampler."""
    from spark_blender.core.model import ArticulatedObject, Joint, Link, Visual
    from spark_blender.core.transforms import make_transform

    def cabinet(width: float) -> ArticulatedObject:
        body = trimesh.creation.box((width, 0.4, 1.0))
        door = trimesh.creation.box((width, 0.02, 1.0))
        return ArticulatedObject(
            name="cabinet",
            category="StorageFurniture",
            links=[
                Link("base", [Visual(body, make_transform([0, 0, 0.5], [0, 0, 0]))], label="base"),
                Link(
                    "door",
                    [Visual(door, make_transform([width / 2, 0, 0], [0, 0, 0]))],
                    label="door",
                ),
            ],
            joints=[
                Joint(
                    "hinge",
                    "revolute",
                    "base",
                    "door",
                    origin=make_transform([-width / 2, -0.21, 0.5], [0, 0, 0]),
                    axis=np.array([0.0, 0.0, -1.0]),
                    upper=1.6,
                )
            ],
        )

    stats = _measure("StorageFurniture", [cabinet(0.6), cabinet(0.8)])
    assert stats.source == "synth (2 samples)"
    assert stats.size_m[0] == pytest.approx(0.7) and stats.size_m[2] == pytest.approx(1.0)
    (door,) = stats.parts
    assert (door.label, door.joint_type, door.count) == ("door", "revolute", (1, 1))
    assert door.axis == (0.0, 0.0, -1.0)
    assert door.pivot[0] == pytest.approx(-0.5, abs=0.01) and door.limits == (0.0, 1.6)
