"""A corpus of broken URDFs: each gives one clear URDFError, never a traceback or a hang; and
mutated valid URDFs never crash the reader with anything but URDFError."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spark_blender.core.model import ArticulatedObject
from spark_blender.core.urdf import MAX_URDF_BYTES, URDFError, read_urdf

BOX = "<geometry><box size='0.1 0.1 0.1'/></geometry>"
CUBE_OBJ = """v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n"""


def robot(body: str) -> str:
    return f"<?xml version='1.0'?>\n<robot name='r'>\n{body}\n</robot>\n"


def link(name: str, visual: str = BOX) -> str:
    return f"<link name='{name}'><visual>{visual}</visual></link>"


def joint(name, parent, child, kind="revolute", extra="<limit lower='0' upper='1'/>", axis="0 0 1"):
    return (
        f"<joint name='{name}' type='{kind}'><parent link='{parent}'/><child link='{child}'/>"
        f"<axis xyz='{axis}'/>{extra}</joint>"
    )


def mesh(filename: str) -> str:
    return f"<geometry><mesh filename='{filename}'/></geometry>"


GOOD = robot(link("base") + link("door") + joint("hinge", "base", "door"))
BOMB = (
    "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>"
    + "".join(
        f"<!ENTITY lol{i} '{('&lol' + str(i - 1) + ';') * 10 if i else '&lol;' * 10}'>"
        for i in range(9)
    )
    + "]><robot name='&lol8;'/>"
)

# name -> (URDF text, a word the message must contain)
CORPUS: dict[str, tuple[str, str]] = {
    "empty_file": ("", "malformed XML"),
    "not_xml": ("hello, robot", "malformed XML"),
    "truncated": (GOOD[: len(GOOD) // 2], "malformed XML"),
    "unclosed_tag": (robot("<link name='base'>"), "malformed XML"),
    "wrong_root": ("<sdf><model/></sdf>", "expected <robot>"),
    "entity_bomb": (BOMB, "DOCTYPE"),
    "external_entity": (
        "<?xml version='1.0'?><!DOCTYPE r [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
        "<robot name='&x;'/>",
        "DOCTYPE",
    ),
    "external_dtd": (
        "<?xml version='1.0'?><!DOCTYPE robot SYSTEM 'http://example.com/r.dtd'><robot name='r'/>",
        "DOCTYPE",
    ),
    "no_links": (robot(""), "no links"),
    "cycle": (
        robot(
            link("a")
            + link("b")
            + link("c")
            + joint("ab", "a", "b")
            + joint("bc", "b", "c")
            + joint("cb", "c", "b")
        ),
        "cycle",
    ),
    "two_roots": (robot(link("a") + link("b")), "2 root links"),
    "unknown_parent": (
        robot(link("base") + link("door") + joint("hinge", "frame", "door")),
        "parent 'frame'",
    ),
    "unknown_child": (robot(link("base") + joint("hinge", "base", "door")), "child 'door'"),
    "duplicate_link": (robot(link("base") + link("base")), "used twice"),
    "duplicate_joint": (
        robot(link("a") + link("b") + link("c") + joint("j", "a", "b") + joint("j", "a", "c")),
        "used twice",
    ),
    "link_without_name": (robot("<link/>"), "no name"),
    "joint_without_parent": (
        robot(link("a") + link("b") + "<joint name='j' type='fixed'><child link='b'/></joint>"),
        "no <parent link>",
    ),
    "missing_mesh": (robot(link("base", mesh("meshes/nothing.obj"))), "not found"),
    "escaping_path": (
        robot(link("base", mesh("../outside/cube.obj"))),
        "outside the URDF's folder",
    ),
    "absolute_file_url_outside": (robot(link("base", mesh("file:///etc/hostname"))), "outside"),
    "remote_mesh": (robot(link("base", mesh("http://example.com/cube.obj"))), "remote file"),
    "nan_origin": (
        robot(link("base", f"<origin xyz='nan 0 0'/>{BOX}")),
        "non-finite",
    ),
    "inf_rpy": (robot(link("base", f"<origin rpy='0 inf 0'/>{BOX}")), "non-finite"),
    "nan_limit": (
        robot(
            link("base")
            + link("door")
            + joint("hinge", "base", "door", extra="<limit lower='nan' upper='1'/>")
        ),
        "non-finite",
    ),
    "zero_axis": (
        robot(link("base") + link("door") + joint("hinge", "base", "door", axis="0 0 0")),
        "zero axis",
    ),
    "axis_two_values": (
        robot(link("base") + link("door") + joint("hinge", "base", "door", axis="0 1")),
        "expected 3",
    ),
    "axis_words": (
        robot(link("base") + link("door") + joint("hinge", "base", "door", axis="up up up")),
        "not numbers",
    ),
    "revolute_without_limit": (
        robot(link("base") + link("door") + joint("hinge", "base", "door", extra="")),
        "no <limit>",
    ),
    "lower_above_upper": (
        robot(
            link("base")
            + link("door")
            + joint("hinge", "base", "door", extra="<limit lower='2' upper='1'/>")
        ),
        "above upper",
    ),
    "floating_joint": (
        robot(link("base") + link("door") + joint("j", "base", "door", kind="floating")),
        "unsupported type",
    ),
    "bad_mass": (
        robot(
            "<link name='base'><inertial><mass value='heavy'/>"
            "<inertia ixx='1' iyy='1' izz='1'/></inertial></link>"
        ),
        "not numbers",
    ),
    "inertial_without_inertia": (
        robot("<link name='base'><inertial><mass value='1'/></inertial></link>"),
        "no <inertia>",
    ),
    "negative_box": (
        robot(link("base", "<geometry><box size='-1 1 1'/></geometry>")),
        "must be positive",
    ),
    "unsupported_geometry": (
        robot(link("base", "<geometry><capsule radius='1' length='1'/></geometry>")),
        "unsupported geometry",
    ),
    "visual_without_geometry": (robot("<link name='base'><visual/></link>"), "no <geometry>"),
    "garbage_mesh": (robot(link("base", mesh("garbage.obj"))), "garbage.obj"),
    "empty_mesh": (robot(link("base", mesh("empty.obj"))), "no triangles"),
    "deep_nesting": (
        "<robot name='r'>" + "<a>" * 3000 + "</a>" * 3000 + "</robot>",
        "malformed XML",
    ),
    "nul_bytes": ("<robot name='r\x00'/>", "malformed XML"),
}


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("broken")
    (root / "outside").mkdir()
    (root / "outside" / "cube.obj").write_text(CUBE_OBJ)
    folder = root / "urdf"
    folder.mkdir()
    (folder / "garbage.obj").write_bytes(os.urandom(512))
    (folder / "empty.obj").write_text("# nothing here\n")
    (folder / "cube.obj").write_text(CUBE_OBJ)
    return folder


def test_the_corpus_is_large_enough():
    assert len(CORPUS) + 3 >= 30  # + huge file, too many elements, escaping symlink below


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_broken_urdf_gives_one_clear_error(case, corpus_dir):
    text, expected = CORPUS[case]
    path = corpus_dir / f"{case}.urdf"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    started = time.perf_counter()
    with pytest.raises(URDFError) as error:
        read_urdf(path)
    message = str(error.value)
    assert time.perf_counter() - started < 10.0  # never a hang
    assert expected in message, message
    assert "\n" not in message
    assert message.startswith(f"{case}.urdf: ")


def test_huge_file_is_refused_before_parsing(corpus_dir):
    path = corpus_dir / "huge.urdf"
    with open(path, "w") as handle:
        handle.write("<robot name='r'>")
        handle.write("<!-- padding -->" * (MAX_URDF_BYTES // 16 + 1))
        handle.write("</robot>")
    with pytest.raises(URDFError, match="above the .* limit"):
        read_urdf(path)


def test_too_many_elements_are_refused(corpus_dir):
    path = corpus_dir / "many.urdf"
    path.write_text(robot("<material name='m'/>" * 250_000))
    with pytest.raises(URDFError, match="XML elements"):
        read_urdf(path)


def test_symlink_leaving_the_folder_is_refused(corpus_dir):
    link_path = corpus_dir / "sneaky.obj"
    if not link_path.exists():
        link_path.symlink_to(corpus_dir.parent / "outside" / "cube.obj")
    path = corpus_dir / "symlink.urdf"
    path.write_text(robot(link("base", mesh("sneaky.obj"))))
    with pytest.raises(URDFError, match="outside the URDF's folder"):
        read_urdf(path)
    assert read_urdf(path, allow_outside=True).link("base").visuals


def test_mesh_paths_resolve_through_package_dirs(corpus_dir, tmp_path):
    package = tmp_path / "my_robot" / "meshes"
    package.mkdir(parents=True)
    (package / "cube.obj").write_text(CUBE_OBJ)
    path = corpus_dir / "package.urdf"
    path.write_text(robot(link("base", mesh("package://my_robot/meshes/cube.obj"))))
    with pytest.raises(URDFError, match="not found"):
        read_urdf(path)
    obj = read_urdf(path, package_dirs=[tmp_path])
    assert len(obj.link("base").visuals[0].mesh.faces) == 4


def test_inertia_products_default_to_zero(corpus_dir):
    path = corpus_dir / "diagonal.urdf"
    path.write_text(
        robot(
            "<link name='base'><inertial><mass value='2'/><inertia ixx='1' iyy='2' izz='3'/>"
            "</inertial></link>"
        )
    )
    inertial = read_urdf(path).link("base").inertial
    assert inertial.mass == 2.0
    np.testing.assert_array_equal(inertial.inertia, np.diag([1.0, 2.0, 3.0]))


def test_the_good_urdf_reads(corpus_dir):
    path = corpus_dir / "good.urdf"
    path.write_text(GOOD)
    assert read_urdf(path).joint("hinge").upper == 1.0


# --- property: mutations of a valid URDF -------------------------------------------------------
@pytest.fixture(scope="module")
def mutable_copy(example_urdf, tmp_path_factory) -> Path:
    """A private copy of the example folder, so mutated files land beside its meshes."""
    folder = tmp_path_factory.mktemp("mutations") / "cabinet"
    shutil.copytree(example_urdf.parent, folder)
    return folder / example_urdf.name


def _mutate(text: str, data) -> str:
    operation = data.draw(
        st.sampled_from(["delete", "insert", "replace_number", "duplicate", "swap"])
    )
    i = data.draw(st.integers(0, len(text) - 1))
    j = data.draw(st.integers(i, min(len(text), i + 60)))
    if operation == "delete":
        return text[:i] + text[j:]
    if operation == "insert":
        junk = data.draw(st.text(alphabet="<>/=\"' abcxyz0123456789.-e&;!", max_size=20))
        return text[:i] + junk + text[i:]
    if operation == "replace_number":
        value = data.draw(
            st.sampled_from(["nan", "inf", "-inf", "1e308", "-0", "0", "1e-320", "abc", "", "1 2"])
        )
        start = text.find('"', i)
        end = text.find('"', start + 1)
        if start < 0 or end < 0:
            return text
        return text[: start + 1] + value + text[end:]
    if operation == "duplicate":
        return text[:j] + text[i:j] + text[j:]
    return text[j:] + text[:j]


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_mutated_urdfs_only_ever_raise_urdf_error(mutable_copy, data):
    mutated = mutable_copy.read_text()
    for _ in range(data.draw(st.integers(1, 3))):
        mutated = _mutate(mutated, data)
    path = mutable_copy.parent / "mutated.urdf"
    path.write_text(mutated)
    try:
        result = read_urdf(path)
    except URDFError:
        return
    assert isinstance(result, ArticulatedObject)
