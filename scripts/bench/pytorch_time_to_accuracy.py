#!/usr/bin/python3
"""PyTorch time-to-accuracy peer: convoy's Fashion-MNIST resnet20 recipe, in PyTorch.

Prints one JSON line per epoch: {"epoch", "seconds", "train_seconds", "test_accuracy",
"train_loss", "learning_rate"}; stops early once --target-accuracy is reached.

Why it looks this way:
1. Same recipe as convoy's: resnet20 (pytorch_models.py, 1 input channel, 28x28 input, no
   resizing), random crop 28 from a zero-padded 32x32 (pad 2) and horizontal flip, per-pixel
   normalization with the Fashion-MNIST training mean/std (0.2860, 0.3530), SGD lr 0.1
   momentum 0.9 nesterov weight decay 5e-4, batch 128, cosine to 0 over the run.
2. The learning rate is set every step from the same pure function convoy uses
   (framework/optim/learning_rate_schedule.hpp: fractional epoch = step / steps_per_epoch,
   optional linear warmup, cosine over the epochs after warmup), not once per epoch.
3. The data are read straight from the IDX .gz files with gzip + numpy (no torchvision), and
   every random choice comes from generators seeded by (seed, epoch), so runs repeat.
4. "seconds" is wall time since the start including evaluation; "train_seconds" excludes it.

Example (the shared development machine: one epoch on a subset only):
  /usr/bin/python3 scripts/bench/pytorch_time_to_accuracy.py --epochs 1 --subset 2048 \
      --test-subset 1000 --threads 1
"""

import argparse
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_models import build_model  # noqa: E402

FASHION_MNIST_MEAN = 0.2860
FASHION_MNIST_STD = 0.3530


def read_idx(path, expected_magic):
    """IDX format: big-endian magic (0x0801 labels, 0x0803 images), then dimension sizes."""
    with gzip.open(path, "rb") as file:
        data = file.read()
    magic = int.from_bytes(data[0:4], "big")
    if magic != expected_magic:
        raise ValueError(f"{path}: IDX magic {magic:#x}, expected {expected_magic:#x}")
    rank = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    values = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank)
    if values.size != math.prod(dims):
        raise ValueError(f"{path}: {values.size} bytes of data, header says {dims}")
    return values.reshape(dims)


def load_split(data_dir, prefix, limit):
    images = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"), 0x803)
    labels = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"), 0x801)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{data_dir}: {prefix} has {images.shape[0]} images but "
                         f"{labels.shape[0]} labels")
    if limit:
        images, labels = images[:limit], labels[:limit]
    images = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)  # (N, 1, 28, 28)
    return images, torch.from_numpy(labels.astype(np.int64))


def normalize(images):
    return (images - FASHION_MNIST_MEAN) / FASHION_MNIST_STD


def augment(images, generator):
    """Random 28x28 crop of the image zero-padded to 32x32 (pad before normalizing, as
    torchvision's RandomCrop(28, padding=2) on the raw image), then a horizontal flip with
    probability 1/2."""
    count, _, height, width = images.shape
    padded = nn.functional.pad(images, (2, 2, 2, 2))
    offsets = torch.randint(0, 5, (count, 2), generator=generator)
    flips = torch.rand(count, generator=generator) < 0.5
    out = torch.empty_like(images)
    for i in range(count):
        top, left = int(offsets[i, 0]), int(offsets[i, 1])
        crop = padded[i, :, top:top + height, left:left + width]
        out[i] = crop.flip(-1) if flips[i] else crop
    return out


def learning_rate(step, args, steps_per_epoch):
    """convoy's LearningRateSchedule("cosine") at optimizer step `step` (0-based)."""
    epoch = step / steps_per_epoch
    factor = 1.0
    if epoch < args.warmup_epochs:
        factor = args.warmup_start_factor + (1 - args.warmup_start_factor) * (
            epoch / args.warmup_epochs)
    length = args.epochs - args.warmup_epochs
    progress = min(max(epoch - args.warmup_epochs, 0.0), length) / length
    cosine = args.min_lr + (args.lr - args.min_lr) * (1 + math.cos(math.pi * progress)) / 2
    return factor * cosine


def evaluate(model, images, labels, batch):
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, images.shape[0], batch):
            logits = model(normalize(images[start:start + batch]))
            correct += int((logits.argmax(1) == labels[start:start + batch]).sum())
    model.train()
    return correct / images.shape[0]


def parameter_groups(model, weight_decay, exempt_bias_and_norm):
    if not exempt_bias_and_norm:
        return [{"params": list(model.parameters()), "weight_decay": weight_decay}]
    decayed, exempt = [], []
    for parameter in model.parameters():
        (exempt if parameter.ndim <= 1 else decayed).append(parameter)  # biases and BN
    return [{"params": decayed, "weight_decay": weight_decay},
            {"params": exempt, "weight_decay": 0.0}]


def train(args):
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    train_images, train_labels = load_split(args.data_dir, "train", args.subset)
    test_images, test_labels = load_split(args.data_dir, "t10k", args.test_subset)
    model = build_model("resnet20", num_classes=10, in_channels=1)
    optimizer = torch.optim.SGD(parameter_groups(model, args.weight_decay,
                                                 args.exempt_bias_and_norm),
                                lr=args.lr, momentum=0.9, nesterov=True)
    criterion = nn.CrossEntropyLoss()
    steps_per_epoch = math.ceil(train_images.shape[0] / args.batch)
    start_time = time.perf_counter()
    train_seconds = 0.0
    step = 0
    for epoch in range(args.epochs):
        epoch_start = time.perf_counter()
        generator = torch.Generator().manual_seed(args.seed * 1000003 + epoch)
        order = torch.randperm(train_images.shape[0], generator=generator)
        loss_sum, seen = 0.0, 0
        for first in range(0, order.numel(), args.batch):
            indices = order[first:first + args.batch]
            images = normalize(augment(train_images[indices], generator))
            labels = train_labels[indices]
            rate = learning_rate(step, args, steps_per_epoch)
            for group in optimizer.param_groups:
                group["lr"] = rate
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
                logits = model(images)
            loss = criterion(logits.float(), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * labels.numel()
            seen += labels.numel()
            step += 1
        train_seconds += time.perf_counter() - epoch_start
        accuracy = evaluate(model, test_images, test_labels, args.eval_batch)
        print(json.dumps({"epoch": epoch + 1, "seconds": time.perf_counter() - start_time,
                          "train_seconds": train_seconds, "test_accuracy": accuracy,
                          "train_loss": loss_sum / seen, "learning_rate": rate}), flush=True)
        if args.target_accuracy is not None and accuracy >= args.target_accuracy:
            break


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--eval-batch", type=int, default=1000)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--min-lr", type=float, default=0.0)
    parser.add_argument("--warmup-epochs", type=float, default=0.0)
    parser.add_argument("--warmup-start-factor", type=float, default=0.01)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--exempt-bias-and-norm", action="store_true",
                        help="no weight decay on biases and BatchNorm parameters")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    parser.add_argument("--target-accuracy", type=float, default=None,
                        help="stop after the first epoch reaching this test accuracy (0..1)")
    parser.add_argument("--subset", type=int, default=0, help="use the first N training images")
    parser.add_argument("--test-subset", type=int, default=0,
                        help="evaluate on the first N test images")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.epochs < 1 or args.batch < 1 or args.threads < 1:
        parser.error("--epochs, --batch and --threads must be >= 1")
    if not args.warmup_epochs < args.epochs:
        parser.error("--warmup-epochs must be below --epochs")
    train(args)


if __name__ == "__main__":
    main()
