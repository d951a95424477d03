#!/usr/bin/python3
"""PyTorch peer benchmark: trains one convoy architecture on synthetic data and prints JSON.

Why it looks this way:
1. convoy's `bench` reports images/s for the same model, batch, input and thread count, so the
   ratio convoy / PyTorch in the README compares like with like: same architecture (built by
   pytorch_models.py), SGD with momentum 0.9, cross-entropy, a full training step (forward,
   backward, update) timed with a wall clock.
2. The median over the timed steps (after warm-up steps that let oneDNN/MKL-DNN pick and cache
   kernels) is robust to a noisy shared machine; the peak resident set size comes from
   getrusage (ru_maxrss, kilobytes on Linux) and covers the whole process.
3. bf16 uses torch.autocast('cpu', dtype=torch.bfloat16) around the forward pass, the loss in
   f32, as PyTorch recommends for CPU mixed precision.

Examples:
  /usr/bin/python3 scripts/bench/pytorch_peer.py --model resnet50 --batch 32 --steps 20 \
      --input 3x224x224 --threads 2
  /usr/bin/python3 scripts/bench/pytorch_peer.py --self-test
"""

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_models import build_model, model_names  # noqa: E402


def parse_input(text):
    try:
        dims = tuple(int(part) for part in text.lower().split("x"))
    except ValueError:
        dims = ()
    if len(dims) != 3 or min(dims) < 1:
        raise argparse.ArgumentTypeError(f"--input must be CxHxW such as 3x224x224, got '{text}'")
    return dims


def run(args):
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    channels, height, width = args.input
    model = build_model(args.model, num_classes=args.classes, in_channels=channels,
                        variant=args.variant)
    model.train()
    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9,
                                weight_decay=args.weight_decay)
    criterion = nn.CrossEntropyLoss()
    images = torch.randn(args.batch, channels, height, width).to(memory_format=memory_format)
    labels = torch.randint(0, args.classes, (args.batch,))

    step_seconds = []
    loss_value = float("nan")
    for step in range(args.warmup + args.steps):
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
            logits = model(images)
        loss = criterion(logits.float(), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_value = loss.item()  # forces completion of the step before the clock stops
        if step >= args.warmup:
            step_seconds.append(time.perf_counter() - start)

    median = statistics.median(step_seconds)
    return {
        "framework": "pytorch",
        "torch_version": torch.__version__,
        "model": args.model,
        "variant": args.variant,
        "batch": args.batch,
        "input": list(args.input),
        "classes": args.classes,
        "threads": args.threads,
        "precision": args.precision,
        "channels_last": args.channels_last,
        "warmup_steps": args.warmup,
        "steps": args.steps,
        "ms_per_step": median * 1000.0,
        "images_per_second": args.batch / median,
        "ms_per_step_min": min(step_seconds) * 1000.0,
        "ms_per_step_max": max(step_seconds) * 1000.0,
        "final_loss": loss_value,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "host": platform.node(),
    }


def self_test(args):
    """Two timed steps on a tiny input in each precision; checks the JSON fields."""
    for precision in ("fp32", "bf16"):
        tiny = argparse.Namespace(**vars(args))
        tiny.model, tiny.batch, tiny.input, tiny.classes = "resnet20", 4, (1, 16, 16), 10
        tiny.variant, tiny.steps, tiny.warmup, tiny.threads = "cifar", 2, 1, 1
        tiny.precision = precision
        result = run(tiny)
        assert result["images_per_second"] > 0 and result["ms_per_step"] > 0, result
        assert result["peak_rss_mb"] > 0 and result["final_loss"] == result["final_loss"], result
        assert result["precision"] == precision and result["input"] == [1, 16, 16], result
        print(json.dumps(result))
    print("pytorch_peer self-test passed", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="resnet50", choices=model_names())
    parser.add_argument("--variant", default="imagenet", choices=["imagenet", "cifar"],
                        help="ResNet stem / VGG head (CIFAR ResNets ignore it)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=20, help="timed steps")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--input", type=parse_input, default=(3, 224, 224), help="CxHxW")
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    parser.add_argument("--channels-last", action="store_true",
                        help="NHWC activations (PyTorch's faster CPU path on some machines)")
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--self-test", action="store_true", help="2 steps on a tiny input")
    args = parser.parse_args()
    if args.batch < 1 or args.steps < 1 or args.warmup < 0 or args.threads < 1:
        parser.error("--batch, --steps and --threads must be >= 1 and --warmup >= 0")
    if args.self_test:
        self_test(args)
    else:
        print(json.dumps(run(args)))


if __name__ == "__main__":
    main()
