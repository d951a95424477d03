#!/usr/bin/python3
"""Convert convoy checkpoints to PyTorch state_dicts and back, and check logits against PyTorch.

  checkpoint_to_pytorch.py to-torch   CHECKPOINT.h5 OUT.pt [--weights model|ema]
  checkpoint_to_pytorch.py from-torch IN.pt OUT.h5 [--recipe NAME]
  checkpoint_to_pytorch.py logits     CHECKPOINT.h5 INPUT.npy OUT.npy --architecture resnet20
                                      [--variant cifar] [--in-channels 1] [--classes 10]
                                      [--shape NxCxHxW: INPUT is raw float32]

A convoy checkpoint's /model group already is a state_dict: one float32 dataset per
parameter and buffer, named like torchvision's modules, in plain layouts (OIHW, [out, in]).
The only conversion is num_batches_tracked, an int64 scalar in PyTorch and a float32 (1) in
convoy. from-torch writes a checkpoint with /model filled and empty optimizer, schedule, data
and rng state (step 0): enough for `convoy eval` and for fine-tuning, not for an exact resume.
Uses Debian's python3-h5py, python3-numpy and python3-torch.
"""
import argparse
import os
import sys

import h5py
import numpy as np


def read_state_dict(path, group="model"):
    import torch
    with h5py.File(path, "r") as f:
        if f.attrs.get("format") != "convoy.checkpoint":
            sys.exit(f"{path}: not a convoy checkpoint (root attribute format)")
        if group not in f:
            sys.exit(f"{path} holds no /{group} (the model EMA is saved by train --model-ema)")
        state = {}
        for name, dataset in f[group].items():
            value = dataset[()]
            if name.endswith("num_batches_tracked"):
                state[name] = torch.tensor(int(round(float(value.reshape(-1)[0]))), dtype=torch.int64)
            else:
                state[name] = torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))
        return state


def to_torch(arguments):
    import torch
    group = "model_ema" if arguments.weights == "ema" else "model"
    torch.save(read_state_dict(arguments.checkpoint, group), arguments.output)
    print(f"wrote {arguments.output}")


def from_torch(arguments):
    import torch
    state = torch.load(arguments.input, map_location="cpu")
    temporary = arguments.output + ".tmp"
    string = h5py.string_dtype("utf-8")
    with h5py.File(temporary, "w") as f:
        for key, value in {"format": "convoy.checkpoint", "recipe": arguments.recipe,
                           "configuration": "", "convoy_version": "pytorch import",
                           "metrics": ""}.items():
            f.attrs.create(key, value, dtype=string)
        for key in ("format_version",):
            f.attrs.create(key, 1, dtype=np.int64)
        for key in ("epoch", "step", "world_size", "global_batch"):
            f.attrs.create(key, 1 if key == "world_size" else 0, dtype=np.int64)
        model = f.create_group("model")
        for name, tensor in state.items():
            array = tensor.detach().cpu().numpy().astype(np.float32)
            if array.ndim == 0:
                array = array.reshape(1)
            model.create_dataset(name, data=array, chunks=array.shape, fletcher32=True)
        f.create_group("optimizer")
        f.create_group("schedule")
        data = f.create_group("data")
        for key in ("sampler_seed", "epoch", "global_position"):
            data.attrs.create(key, 0, dtype=np.int64)
        f.create_group("rng")
    os.replace(temporary, arguments.output)
    print(f"wrote {arguments.output}")


def logits(arguments):
    import torch
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench"))
    import pytorch_models
    model = pytorch_models.build_model(arguments.architecture, num_classes=arguments.classes,
                                       in_channels=arguments.in_channels, variant=arguments.variant)
    model.load_state_dict(read_state_dict(arguments.checkpoint), strict=True)
    model.eval()
    if arguments.shape:
        # Raw little-endian float32 in row-major (N, C, H, W), as convoy's tests write it.
        shape = [int(d) for d in arguments.shape.split("x")]
        images = torch.from_numpy(np.fromfile(arguments.input, dtype="<f4").reshape(shape))
    else:
        images = torch.from_numpy(np.load(arguments.input).astype(np.float32))
    with torch.no_grad():
        result = model(images).numpy().astype("<f4")
    if arguments.output.endswith(".npy"):
        np.save(arguments.output, result)
    else:
        result.tofile(arguments.output)
    print(f"wrote {arguments.output}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("to-torch")
    p.add_argument("checkpoint")
    p.add_argument("output")
    p.add_argument("--weights", choices=["model", "ema"], default="model",
                   help="ema: the moving average of a --model-ema run (/model_ema)")
    p.set_defaults(run=to_torch)
    p = commands.add_parser("from-torch")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--recipe", default="imported")
    p.set_defaults(run=from_torch)
    p = commands.add_parser("logits")
    p.add_argument("checkpoint")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--architecture", required=True)
    p.add_argument("--variant", default="cifar")
    p.add_argument("--in-channels", type=int, default=1)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--shape", help="input is raw float32 of this NxCxHxW shape (output raw too, "
                   "unless it ends in .npy)")
    p.set_defaults(run=logits)
    arguments = parser.parse_args()
    arguments.run(arguments)


if __name__ == "__main__":
    main()
