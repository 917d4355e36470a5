"""The report of a run: `summary.md`, `report.html`, per-case thumbnails and per-category plots.

Thumbnails show, from the case's own camera: the input photo, the reconstruction at rest and at
EVAL.md's moved state (parts in distinct colours), and the ground truth at rest and moved. They
are drawn by the data engine's rasteriser (``synth.render_fast``), two-sided: meshes from
elsewhere rarely wind consistently.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import trimesh
from PIL import Image

from spark_blender.core.camera import Camera
from spark_blender.core.model import ArticulatedObject, Joint, Link, Material, Visual
from spark_blender.evaluation.cases import Case
from spark_blender.evaluation.prediction import Prediction
from spark_blender.evaluation.summary import (
    METRICS,
    SummaryRow,
    fmt,
    markdown_table,
    summarise,
    summarise_by_category,
    table_cells,
    table_header,
)

THUMBNAIL = 256
GT_COLOUR = ((0.55, 0.62, 0.72),)
VIEWS = (
    ("input", "input"),
    ("pred_rest", "reconstruction, rest"),
    ("pred_moved", "reconstruction, moved"),
    ("gt_rest", "ground truth, rest"),
    ("gt_moved", "ground truth, moved"),
)


# Distinct part colours: the first part (usually the base) is grey.
PART_COLOURS = (
    (0.72, 0.72, 0.74),
    (0.90, 0.55, 0.25),
    (0.30, 0.60, 0.90),
    (0.45, 0.78, 0.40),
    (0.85, 0.40, 0.55),
    (0.65, 0.50, 0.85),
    (0.90, 0.80, 0.30),
    (0.35, 0.80, 0.80),
)


# --- thumbnails ----------------------------------------------------------------------------------
def meshes_object(meshes, colours=PART_COLOURS) -> ArticulatedObject:
    """World-frame meshes as one object of parts fixed to an empty root, coloured in turn."""
    parts = [
        Link(
            f"part_{i}",
            visuals=[
                Visual(
                    trimesh.Trimesh(mesh.vertices, mesh.faces, process=False),
                    np.eye(4),
                    Material(f"colour_{i}", (*colours[i % len(colours)], 1.0)),
                )
            ],
        )
        for i, mesh in enumerate(m for m in meshes if len(m.faces))
    ]
    joints = [Joint(f"fix_{p.name}", "fixed", "root", p.name, np.eye(4)) for p in parts]
    return ArticulatedObject("thumbnail", links=[Link("root"), *parts], joints=joints)


def render_meshes(meshes, camera: Camera, size: int, colours=PART_COLOURS) -> Image.Image:
    """An RGBA image of world-frame `meshes` seen by `camera`, `size` pixels wide."""
    from spark_blender.synth.render_fast import render

    obj = meshes_object(meshes, colours)
    if not any(link.visuals for link in obj.links):
        height = round(camera.height * size / camera.width)
        return Image.new("RGBA", (size, height), (255, 255, 255, 0))
    return Image.fromarray(render(obj, camera.scaled(size), two_sided=True).rgba, "RGBA")


def on_white(image: Image.Image, size: int | None = None) -> Image.Image:
    """An RGBA render or photo flattened onto white (and resized to `size` wide)."""
    image = image.convert("RGBA")
    if size is not None and image.width != size:
        height = round(image.height * size / image.width)
        image = image.resize((size, height), Image.LANCZOS)
    flat = Image.new("RGBA", image.size, (255, 255, 255, 255))
    flat.alpha_composite(image)
    return flat.convert("RGB")


def render_thumbnails(case: Case, prediction: Prediction | None, folder: Path) -> dict[str, str]:
    """Write the case's PNGs into `folder`; returns {view: path relative to the report}."""
    folder.mkdir(parents=True, exist_ok=True)
    images: dict[str, Image.Image] = {}
    if case.rest_image.is_file():
        images["input"] = on_white(Image.open(case.rest_image), THUMBNAIL)
    if case.camera is not None:
        if prediction is not None:
            for state in ("rest", "moved"):
                parts = prediction.link_meshes(state)
                images[f"pred_{state}"] = on_white(render_meshes(parts, case.camera, THUMBNAIL))
        for state in ("rest", "moved"):
            if (case.folder / f"gt_{state}.npz").is_file():
                mesh = case.mesh(state)
                render = render_meshes([mesh], case.camera, THUMBNAIL, colours=GT_COLOUR)
                images[f"gt_{state}"] = on_white(render)
    written = {}
    for view, image in images.items():
        image.save(folder / f"{view}.png")
        written[view] = f"images/{case.name}/{view}.png"
    return written


# --- the report ----------------------------------------------------------------------------------
def write_report(records: list[dict], options) -> None:
    out = Path(options.out_dir)
    overall = summarise(records)
    categories = summarise_by_category(records)
    (out / "summary.md").write_text(summary_markdown(overall, categories, records, options))
    try:
        plots = write_plots(overall, categories, out / "plots")
    except ImportError:  # matplotlib is the `eval` extra; the tables and thumbnails need none
        plots = []
    (out / "report.html").write_text(report_html(overall, categories, records, plots, options))


def summary_markdown(overall, categories, records, options) -> str:
    failed = [r for r in records if r.get("status") != "ok"]
    lines = [
        "# Evaluation summary",
        "",
        f"- source: `{options.source}`",
        f"- cases: `{Path(options.cases_dir).resolve()}`"
        f" ({overall.cases}, {overall.failed} failed)",
        "- protocol: EVAL.md (10,000 area-weighted samples per normalised mesh, seed "
        f"{options.seed}); means over cases; a failed case scores the worst value of each metric",
        "",
        "## Overall",
        "",
        markdown_table([overall]),
        "",
        "## Per category",
        "",
        markdown_table(categories),
        "",
    ]
    if failed:
        lines += ["## Failed cases", ""]
        lines += [f"- `{r['case']}` ({r.get('failed_stage', '?')}): {r['error']}" for r in failed]
        lines.append("")
    return "\n".join(lines)


def write_plots(overall: SummaryRow, categories: list[SummaryRow], folder: Path) -> list[str]:
    """One horizontal bar chart per metric over the categories; returns relative paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    rows = [*categories, overall]
    charts = [(m.key, m.label, m.lower_is_better, lambda r, k=m.key: r.means[k]) for m in METRICS]
    charts.append(("sim_ready", "sim-ready rate", False, lambda r: r.sim_ready_rate))
    written = []
    for key, label, lower_is_better, value_of in charts:
        values = [value_of(r) for r in rows]
        if all(v is None for v in values):
            continue
        figure, axes = plt.subplots(figsize=(3.9, 0.2 * len(rows) + 0.9), dpi=100)
        colours = ["#4c72b0"] * len(categories) + ["#dd8452"]
        axes.barh(range(len(rows)), [v or 0.0 for v in values], color=colours)
        axes.set_yticks(range(len(rows)), [r.group for r in rows], fontsize=8)
        axes.invert_yaxis()
        better = "lower is better" if lower_is_better else "higher is better"
        axes.set_title(f"{label} ({better})", fontsize=9)
        axes.tick_params(axis="x", labelsize=8)
        for index, value in enumerate(values):
            text = "n/a" if value is None else f"{value:.3g}"
            axes.text(value or 0.0, index, f" {text}", va="center", fontsize=7)
        largest = max((v for v in values if v is not None), default=0.0)
        # Room for the labels; near-zero values (an oracle's 1e-9) must not fill the chart.
        axes.set_xlim(0.0, largest * 1.3 if largest > 1e-3 else 1.0)
        figure.tight_layout()
        figure.savefig(folder / f"{key}.png")
        plt.close(figure)
        written.append(f"plots/{key}.png")
    return written


STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; font-size: 12px; margin-bottom: 1.5em; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.plots img { margin: 4px; border: 1px solid #eee; }
.case { border-top: 1px solid #ddd; padding: 8px 0; }
.case h3 { margin: 4px 0; font-size: 14px; }
.case .scores { font-size: 12px; color: #444; }
.case .failed { color: #b00; font-weight: bold; }
figure { display: inline-block; margin: 2px; text-align: center; }
figure img { width: 192px; height: 192px; object-fit: contain; border: 1px solid #ddd; }
figcaption { font-size: 11px; color: #555; }
.missing { width: 192px; height: 192px; display: flex; align-items: center;
           justify-content: center; border: 1px dashed #ccc; font-size: 11px; color: #999; }
"""


def report_html(overall, categories, records, plots, options) -> str:
    e = html.escape
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>SPARK evaluation: {e(options.source)}</title><style>{STYLE}</style></head><body>",
        "<h1>SPARK for Blender: evaluation report</h1>",
        f"<p>source <code>{e(options.source)}</code>; cases <code>"
        f"{e(str(Path(options.cases_dir).resolve()))}</code>; {overall.cases} cases, "
        f"{overall.failed} failed. Protocol: EVAL.md.</p>",
        "<p><a href='#plots'>plots per category</a> | <a href='#cases'>cases</a></p>",
        "<h2>Overall</h2>",
        _html_table([overall]),
        "<h2>Per category</h2>",
        _html_table(categories),
        "<h2 id='plots'>Metrics per category</h2><div class='plots'>",
        *(f"<img src='{e(p)}' alt='{e(p)}'>" for p in plots),
        "" if plots else "<p>No plots: install matplotlib (pip install 'spark-blender[eval]').</p>",
        "</div><h2 id='cases'>Cases</h2>",
    ]
    ordered = sorted(records, key=lambda r: (r.get("category", ""), r["case"]))
    parts += [_html_case(r) for r in ordered]
    parts.append("</body></html>")
    return "\n".join(parts)


def _html_table(rows: list[SummaryRow]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table_header())
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in table_cells(r)) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _html_case(record: dict) -> str:
    e = html.escape
    status = (
        ""
        if record.get("status") == "ok"
        else f"<span class='failed'>failed ({e(record.get('failed_stage', '?'))}): "
        f"{e(record.get('error', ''))}</span>"
    )
    scores = ", ".join(
        f"{m.label} {fmt(record.get(m.key), m.digits)}" for m in METRICS if m.key in record
    )
    sim = record.get("sim_ready")
    sim_text = "not computed" if sim is None else ("yes" if sim else "no")
    if sim is False and record.get("sim_problem"):
        sim_text += f" ({record['sim_problem']})"
    images = record.get("images") or {}
    figures = []
    for view, caption in VIEWS:
        if view in images:
            body = f"<img src='{e(images[view])}' alt='{e(view)}'>"
        else:
            body = "<div class='missing'>none</div>"
        figures.append(f"<figure>{body}<figcaption>{e(caption)}</figcaption></figure>")
    seconds = record.get("seconds")
    time_text = "" if seconds is None else f"; {seconds:.1f} s"
    return (
        f"<div class='case' id='{e(record['case'])}'><h3>{e(record['case'])} "
        f"<small>({e(record.get('category', ''))})</small> {status}</h3>"
        f"<div class='scores'>{e(scores)}; sim-ready {e(sim_text)}{e(time_text)}</div>"
        f"<div>{''.join(figures)}</div></div>"
    )
