"""The local transformers parser on a tiny, randomly initialised LLaVA built and saved here.

No download: the tokenizer is made with the `tokenizers` library (a word-level vocabulary of
printable characters and LLaVA's special tokens), the image processor is CLIP's, the model is
a 2-layer Llama with a 1-layer CLIP vision tower (about 55k parameters). The folder is loaded
back through ``AutoProcessor`` + ``AutoModelForImageTextToText`` by the parser, exactly as a
downloaded Qwen2.5-VL folder would be. (Qwen2-VL itself cannot be built here: its processor
needs a video processor, which needs torchvision, which is not installed.)
"""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from PIL import Image  # noqa: E402

from spark_blender.perception.errors import PerceptionError  # noqa: E402
from spark_blender.perception.local_parser import LocalOptions, LocalParser  # noqa: E402
from spark_blender.perception.parsers import get_parser  # noqa: E402

SPECIAL = ["<s>", "</s>", "<pad>", "<image>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: "
    "{% if m['content'] is string %}{{ m['content'] }}{% else %}{% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<image>{{ '\\n' }}{% else %}{{ c['text'] }}{% endif %}"
    "{% endfor %}{% endif %}{{ '\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}assistant: {% endif %}"
)
ANSWER = {
    "category": "Microwave",
    "size_m": [0.5, 0.38, 0.3],
    "camera": {"azimuth_deg": 15.0, "elevation_deg": 20.0, "fov_deg": 40.0},
    "parts": [
        {
            "name": "door",
            "label": "door",
            "parent": "base",
            "joint_type": "revolute",
            "axis": [0.0, 0.0, -2.0],  # not unit: repair normalises it
            "pivot": [-0.5, -0.5, 0.5],
            "limits": [0.0, 1.6],
            "box_2d": [0.1, 0.2, 0.7, 0.8],
            "mask": None,
        }
    ],
}


def build_tiny_llava(folder, answer: str | None = None, chat_template: str = CHAT_TEMPLATE) -> None:
    """Save a random tiny LLaVA with its processor in `folder`.

    With `answer`, the vocabulary's token 0 is that whole text and the language model's final
    norm is zeroed: every logit is then 0 and greedy decoding (argmax takes the first maximum)
    emits token 0, so the real generate -> decode -> JSON path sees a known answer. Everything
    else (vision tower, projector, decoder layers) keeps its random weights.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import (
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
        PreTrainedTokenizerFast,
    )

    try:
        from transformers.models.clip.image_processing_pil_clip import (
            CLIPImageProcessorPil as ImageProcessor,
        )
    except ImportError:  # older transformers: the PIL processor is the default one
        from transformers import CLIPImageProcessor as ImageProcessor

    words = ([answer] if answer else []) + [chr(i) for i in range(32, 127)] + ["\n"]
    vocab = {token: i for i, token in enumerate(words + SPECIAL)}
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="?"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.decoder = decoders.Fuse()
    tokenizer.add_special_tokens(SPECIAL)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="?",
    )
    ids = {token: fast.convert_tokens_to_ids(token) for token in SPECIAL}
    processor = LlavaProcessor(
        image_processor=ImageProcessor(
            size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28}
        ),
        tokenizer=fast,
        patch_size=14,
        vision_feature_select_strategy="default",
        chat_template=chat_template,
        image_token="<image>",
        num_additional_image_tokens=1,
    )
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=28,
            patch_size=14,
            projection_dim=32,
        ),
        text_config=LlamaConfig(
            vocab_size=len(vocab),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=8192,
            bos_token_id=ids["<s>"],
            eos_token_id=ids["</s>"],
            pad_token_id=ids["<pad>"],
        ),
        image_token_id=ids["<image>"],
        vision_feature_layer=-1,
        vision_feature_select_strategy="default",
    )
    torch.manual_seed(0)
    model = LlavaForConditionalGeneration(config)
    model.generation_config.eos_token_id = ids["</s>"]
    model.generation_config.pad_token_id = ids["<pad>"]
    if answer:
        with torch.no_grad():
            model.get_decoder().norm.weight.zero_()
    model.save_pretrained(folder)
    processor.save_pretrained(folder)


@pytest.fixture(scope="module")
def answering_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny_llava_answering")
    build_tiny_llava(folder, answer=json.dumps(ANSWER))
    return folder


@pytest.fixture(scope="module")
def random_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny_llava_random")
    build_tiny_llava(folder)
    return folder


def _photo() -> Image.Image:
    image = Image.new("RGB", (96, 72), (230, 230, 230))
    image.paste((60, 60, 60), (10, 14, 70, 58))
    return image


def test_local_parser_runs_end_to_end_and_validates_the_answer(answering_model, tmp_path):
    parser = get_parser("local", {"model_path": str(answering_model), "max_new_tokens": 3})
    result = parser.parse(_photo())
    coarse = result.coarse
    assert coarse.category == "Microwave"
    assert [p.name for p in coarse.parts] == ["door"]
    assert coarse.parts[0].axis == [0.0, 0.0, -1.0]  # repaired: normalised
    assert any("normalised" in r for r in result.repairs)
    # Two passes (category, then parts) went through generate; tokens were counted.
    used = result.usage.models[answering_model.name]
    assert used.calls == 2 and used.output_tokens >= 2 and used.input_tokens > 100
    assert result.cost_usd == 0.0
    assert set(result.part_images) == {"door"} and result.part_image_source == "crop"
    saved = result.save(tmp_path / "out")
    assert json.loads((saved / "coarse.json").read_text())["category"] == "Microwave"


def test_random_model_answer_gives_one_clear_error_after_one_repair_retry(random_model):
    parser = LocalParser(
        LocalOptions(model_path=str(random_model), max_new_tokens=12, category_pass=False)
    )
    with pytest.raises(PerceptionError) as caught:
        parser.parse(_photo())
    message = str(caught.value)
    assert str(random_model) in message
    assert "gave no usable answer in 2 tries" in message
    assert "\n" not in message


def test_a_template_that_refuses_system_turns_gets_them_folded_in(tmp_path):
    refusing = (
        "{% if messages[0]['role'] == 'system' %}"
        "{{ raise_exception('System role not supported') }}{% endif %}" + CHAT_TEMPLATE
    )
    build_tiny_llava(tmp_path, answer=json.dumps(ANSWER), chat_template=refusing)
    options = LocalOptions(model_path=str(tmp_path), max_new_tokens=2, category_pass=False)
    assert LocalParser(options).parse(_photo()).coarse.category == "Microwave"


def test_missing_model_folder_is_a_clear_error(tmp_path):
    parser = LocalParser(LocalOptions(model_path=str(tmp_path / "nothing")))
    with pytest.raises(PerceptionError, match="has no config.json"):
        parser.parse(_photo())


def test_local_options_reject_unknown_dtype():
    with pytest.raises(PerceptionError, match="dtype must be one of"):
        LocalOptions(model_path="x", dtype="float8")
