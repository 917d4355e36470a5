"""The prompts of the perception stage, one text file each, versioned by a file-name suffix.

``<name>_v<N>.txt`` holds version N of a prompt; `$field` marks what `render` fills in
(`string.Template`, so the JSON braces inside prompts need no escaping). Changing a prompt
means adding a new version file and bumping `PROMPT_VERSIONS`, so a saved result can always
say which prompts produced it.

Prompts: ``category`` (pass 1: pick the PartNet-Mobility category), ``template`` (pass 2: the
coarse URDF, filled with the per-category statistics), ``axis_check`` (pass 3: re-check the
axes), ``repair`` (one retry after an unusable answer), ``local_format`` (the schema spelled out
for local models without constrained decoding), ``part_image`` and ``moved_image`` (reference
images through an image-edit model).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template

_FOLDER = Path(__file__).parent

PROMPT_VERSIONS: dict[str, int] = {
    "category": 1,
    "template": 2,
    "axis_check": 1,
    "repair": 1,
    "local_format": 1,
    "part_image": 1,
    "moved_image": 1,
}


@dataclass(frozen=True)
class Prompt:
    name: str
    version: int
    text: str

    @property
    def tag(self) -> str:
        return f"{self.name}_v{self.version}"


def load_prompt(name: str, version: int | None = None) -> Prompt:
    """The text of prompt `name` at `version` (default: the current one)."""
    if name not in PROMPT_VERSIONS:
        raise KeyError(f"no prompt named '{name}' (known: {', '.join(PROMPT_VERSIONS)})")
    version = PROMPT_VERSIONS[name] if version is None else version
    path = _FOLDER / f"{name}_v{version}.txt"
    if not path.is_file():
        raise KeyError(f"prompt '{name}' has no version {version} ({path.name} is missing)")
    return Prompt(name, version, path.read_text(encoding="utf-8").strip())


def render(prompt_name: str, /, **fields: object) -> str:
    """Prompt `name` (current version) with its `$fields` filled; a missing field raises."""
    return Template(load_prompt(prompt_name).text).substitute(
        {k: str(v) for k, v in fields.items()}
    )


def prompt_tags() -> dict[str, str]:
    """Which version of every prompt is in use, for the record a result keeps."""
    return {name: f"{name}_v{version}" for name, version in PROMPT_VERSIONS.items()}
