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
and rng state (step 0): enough for `convoy eval` and for fine-tuning (`convoy train --init-from
OUT.h5 [--init-skip fc]`), not for a resume.
Uses Debian's python3-h5py, python3-numpy and python3-torch.
"""
import argparse
import os
import sys

import h5py
import numpy as np


def fail(message):
    """Ends the script with one line: user errors are named, not shown as tracebacks."""
    sys.exit(f"checkpoint_to_pytorch.py: {message}")


def existing_file(path):
    if not os.path.exists(path):
        fail(f"{path}: no such file")
    if not os.path.isfile(path):
        fail(f"{path}: not a file")
    return path


def check_output_directory(path):
    """Before any work: a missing directory would otherwise surface only when writing."""
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        fail(f"{path}: is a directory, expected a file name")
    if not os.path.isdir(directory):
        fail(f"{path}: the directory {directory} does not exist")


def read_state_dict(path, group="model"):
    try:
        f = h5py.File(existing_file(path), "r")
    except OSError as error:
        fail(f"{path}: not an HDF5 file ({error})")
    with f:
        if f.attrs.get("format") != "convoy.checkpoint":
            fail(f"{path}: not a convoy checkpoint (root attribute format)")
        if group not in f:
            fail(f"{path} holds no /{group} (the model EMA is saved by train --model-ema)")
        state = {}
        for name, dataset in f[group].items():
            # convoy stores every tensor as float32 and refuses other types when it reads one;
            # converting them here would hide a file convoy itself cannot load.
            if not isinstance(dataset, h5py.Dataset) or dataset.dtype != np.float32:
                found = "a group" if isinstance(dataset, h5py.Group) else f"of type {dataset.dtype}"
                fail(f"{path}: /{group}/{name} is {found}, expected a float32 tensor")
            value = dataset[()]
            import torch  # after the checks: importing it takes seconds
            if name.endswith("num_batches_tracked"):
                state[name] = torch.tensor(int(round(float(value.reshape(-1)[0]))), dtype=torch.int64)
            else:
                state[name] = torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))
        return state


def to_torch(arguments):
    import torch
    group = "model_ema" if arguments.weights == "ema" else "model"
    check_output_directory(arguments.output)
    state = read_state_dict(arguments.checkpoint, group)
    try:
        torch.save(state, arguments.output)
    except (OSError, RuntimeError) as error:
        fail(f"cannot write {arguments.output}: {error}")
    print(f"wrote {arguments.output}")


def load_torch_state(path):
    """The {name: tensor} saved in `path`, or one line saying what the file holds instead."""
    import torch
    try:
        state = torch.load(existing_file(path), map_location="cpu")
    except Exception as error:  # torch.load raises many types (pickle, zip, EOF) for one cause
        fail(f"{path}: not a PyTorch file torch.load can read ({type(error).__name__}: "
             f"{str(error).splitlines()[0] if str(error) else ''})")
    if isinstance(state, torch.nn.Module):
        fail(f"{path} holds a whole {type(state).__name__} module; save its state_dict() instead")
    if not isinstance(state, dict):
        fail(f"{path} holds a {type(state).__name__}, expected a state_dict (names -> tensors)")
    for key in ("state_dict", "model", "model_state_dict"):
        if isinstance(state.get(key), dict):
            fail(f"{path} holds a training checkpoint; save its \"{key}\" entry (the state_dict)")
    for name, value in state.items():
        if not isinstance(value, torch.Tensor):
            fail(f"{path}: entry {name!r} is a {type(value).__name__}, expected a tensor")
    return state


def from_torch(arguments):
    check_output_directory(arguments.output)
    state = load_torch_state(arguments.input)
    temporary = arguments.output + ".tmp"
    try:
        write_checkpoint(temporary, state, arguments.recipe)
        os.replace(temporary, arguments.output)
    except BaseException:
        # Nothing half-written may stay behind, under either name.
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    print(f"wrote {arguments.output}")


def write_checkpoint(path, state, recipe):
    string = h5py.string_dtype("utf-8")
    with h5py.File(path, "w") as f:
        for key, value in {"format": "convoy.checkpoint", "recipe": recipe,
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


def check_fits(model, state, arguments):
    """One line naming what differs, instead of load_state_dict's multi-line RuntimeError."""
    expected = {name: tuple(value.shape) for name, value in model.state_dict().items()}
    missing = [name for name in expected if name not in state]
    unexpected = [name for name in state if name not in expected]
    reshaped = [f"{name} is {tuple(state[name].shape)}, the model's {expected[name]}"
                for name in expected if name in state and tuple(state[name].shape) != expected[name]
                and not name.endswith("num_batches_tracked")]
    if missing or unexpected or reshaped:
        problems = [f"{len(items)} {what} (first: {items[0]})"
                    for items, what in [(missing, "tensors missing"), (unexpected, "unexpected"),
                                        (reshaped, "of another shape")] if items]
        fail(f"{arguments.checkpoint} does not fit {arguments.architecture} (--variant "
             f"{arguments.variant} --in-channels {arguments.in_channels} --classes "
             f"{arguments.classes}): {'; '.join(problems)}")


def read_images(arguments):
    import torch
    existing_file(arguments.input)
    try:
        if arguments.shape:
            # Raw little-endian float32 in row-major (N, C, H, W), as convoy's tests write it.
            shape = [int(d) for d in arguments.shape.split("x")]
            return torch.from_numpy(np.fromfile(arguments.input, dtype="<f4").reshape(shape))
        return torch.from_numpy(np.load(arguments.input).astype(np.float32))
    except (ValueError, OSError, EOFError) as error:
        fail(f"{arguments.input}: cannot read the images "
             f"{'as ' + arguments.shape if arguments.shape else 'as .npy'} ({error})")


def logits(arguments):
    import torch
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench"))
    import pytorch_models
    try:
        model = pytorch_models.build_model(arguments.architecture, num_classes=arguments.classes,
                                           in_channels=arguments.in_channels,
                                           variant=arguments.variant)
    except ValueError as error:
        fail(f"--architecture {arguments.architecture}: {error}")
    state = read_state_dict(arguments.checkpoint)
    check_fits(model, state, arguments)
    model.load_state_dict(state, strict=True)
    model.eval()
    images = read_images(arguments)
    check_output_directory(arguments.output)
    try:
        with torch.no_grad():
            result = model(images).numpy().astype("<f4")
    except RuntimeError as error:
        fail(f"{arguments.input}: images of shape {tuple(images.shape)} do not fit "
             f"{arguments.architecture} ({str(error).splitlines()[0]})")
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
