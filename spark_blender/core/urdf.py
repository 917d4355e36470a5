"""URDF reading and writing, and the output-folder contract: one import for all three.

The code lives in ``core.urdf_read`` (the safe reader), ``core.urdf_write`` (the URDF writer)
and ``core.output_folder`` (staging, renaming, export preparation shared with MJCF, parse
results and synth datasets); this module re-exports their public names.
"""

from spark_blender.core.output_folder import (
    COLLISION_MODES,
    MeshFiles,
    OutputFolderError,
    WriteOptions,
    check_output_target,
    export_meshes,
    prepare_for_export,
    safe_file_name,
    staged_folder,
    write_output_folder,
)
from spark_blender.core.urdf_read import (
    MAX_ELEMENTS,
    MAX_URDF_BYTES,
    SUPPORTED_JOINTS,
    ReadOptions,
    URDFError,
    parse_urdf,
    read_urdf,
    resolve_mesh_paths,
)
from spark_blender.core.urdf_write import urdf_element, write_urdf

__all__ = [
    "COLLISION_MODES",
    "MAX_ELEMENTS",
    "MAX_URDF_BYTES",
    "SUPPORTED_JOINTS",
    "MeshFiles",
    "OutputFolderError",
    "ReadOptions",
    "URDFError",
    "WriteOptions",
    "check_output_target",
    "export_meshes",
    "parse_urdf",
    "prepare_for_export",
    "read_urdf",
    "resolve_mesh_paths",
    "safe_file_name",
    "staged_folder",
    "urdf_element",
    "write_output_folder",
    "write_urdf",
]
