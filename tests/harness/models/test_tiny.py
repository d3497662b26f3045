from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from harness.models.tiny import TinyModelConfig, build_tiny_checkpoint
from tests.helpers import sample_texts


def test_tiny_checkpoint_loads_and_is_deterministic(tiny_checkpoint: Path, tmp_path: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_checkpoint)
    model = AutoModelForCausalLM.from_pretrained(tiny_checkpoint)
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Fever and flank pain?"}],
        add_generation_prompt=True,
        tokenize=False,
    )
    assert prompt.startswith("<|begin_of_text|><|start_header_id|>user")
    assert prompt.endswith("<|start_header_id|>assistant<|end_header_id|>")
    ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == prompt  # byte-level BPE round-trips
    assert tokenizer.eos_token == "<|eot_id|>"
    assert 0.5e6 < sum(p.numel() for p in model.parameters()) < 5e6

    again = build_tiny_checkpoint(
        tmp_path / "again", sample_texts(), TinyModelConfig(vocab_size=1024)
    )
    other = AutoModelForCausalLM.from_pretrained(again)
    assert AutoTokenizer.from_pretrained(again).get_vocab() == tokenizer.get_vocab()
    for a, b in zip(model.state_dict().values(), other.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    # greedy decoding from two builds of the same checkpoint gives the same tokens
    prompt_ids = torch.tensor([ids])
    output = model.generate(prompt_ids, max_new_tokens=5, min_new_tokens=5, do_sample=False)
    assert output.shape == (1, len(ids) + 5) and output[0, : len(ids)].tolist() == ids
    again_output = other.generate(prompt_ids, max_new_tokens=5, min_new_tokens=5, do_sample=False)
    assert torch.equal(output, again_output)
