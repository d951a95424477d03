#!/usr/bin/python3
"""The architectures convoy ships, in PyTorch, for the peer benchmarks.

Why this file exists and looks the way it does:
1. convoy's throughput and accuracy are reported against PyTorch running the same network, so
   every model here has the same layers, shapes and parameter names as convoy's (and as
   torchvision's where torchvision has the model): a checkpoint converted by name maps 1:1.
2. torchvision is optional (Debian 12 packages it as python3-torchvision, but not every machine
   has it), so the architectures are written out here; `--self-test` checks the parameter
   names and shapes against torchvision whenever it can be imported.
3. Variants convoy adds: the "cifar" ResNet stem (conv1 3x3 stride 1, no maxpool, same names),
   the CIFAR ResNets of He et al. 2016 (resnet20/32/44/56/110, 16/32/64 channels, 1x1 conv + BN
   projection shortcut when the shape changes) and a "cifar" VGG head (global average pool and
   one Linear 512 -> classes named classifier.0). Input channels and class count are options
   (Fashion-MNIST has 1 channel and 10 classes).
4. Initialization follows torchvision: Kaiming normal (fan_out, ReLU) for convolutions, BN
   weight 1 and bias 0, Linear as torch's default for ResNet and N(0, 0.01) with bias 0 for VGG.

Usage: /usr/bin/python3 scripts/bench/pytorch_models.py --self-test
"""

import argparse
import sys

import torch
from torch import nn

__all__ = ["build_model", "model_names"]


def conv3x3(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """torchvision's ResNet v1.5 bottleneck: the stride sits on the 3x3 convolution."""

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


def make_stage(block, inplanes, planes, blocks, stride):
    """One stage ("layerN"): a projection shortcut (downsample.0 conv, .1 BN) when the first
    block changes the shape."""
    downsample = None
    if stride != 1 or inplanes != planes * block.expansion:
        downsample = nn.Sequential(
            conv1x1(inplanes, planes * block.expansion, stride),
            nn.BatchNorm2d(planes * block.expansion),
        )
    layers = [block(inplanes, planes, stride, downsample)]
    layers += [block(planes * block.expansion, planes) for _ in range(1, blocks)]
    return nn.Sequential(*layers)


def init_resnet(model):
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.constant_(module.weight, 1)
            nn.init.constant_(module.bias, 0)


class ResNet(nn.Module):
    """torchvision's ResNet (4 stages, 64..512 channels); stem "imagenet" (7x7 stride 2 conv and
    3x3 maxpool) or "cifar" (3x3 stride 1 conv, no maxpool)."""

    def __init__(self, block, layers, num_classes=1000, in_channels=3, stem="imagenet"):
        super().__init__()
        if stem not in ("imagenet", "cifar"):
            raise ValueError(f"stem must be 'imagenet' or 'cifar', got '{stem}'")
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
        else:
            self.conv1 = conv3x3(in_channels, 64)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        # Identity has no parameters, so the "cifar" stem keeps every name of torchvision's.
        self.maxpool = (nn.MaxPool2d(kernel_size=3, stride=2, padding=1) if stem == "imagenet"
                        else nn.Identity())
        widths = [64, 128, 256, 512]
        inplanes = 64
        for index, (planes, blocks) in enumerate(zip(widths, layers)):
            stage = make_stage(block, inplanes, planes, blocks, 1 if index == 0 else 2)
            setattr(self, f"layer{index + 1}", stage)
            inplanes = planes * block.expansion
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        init_resnet(self)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class CifarResNet(nn.Module):
    """He et al. 2016, section 4.2: depth 6n+2, three stages of n basic blocks with 16, 32, 64
    channels; a 1x1 conv + BN projection where the shape changes (their option B)."""

    def __init__(self, depth, num_classes=10, in_channels=3):
        super().__init__()
        if (depth - 2) % 6 != 0:
            raise ValueError(f"CIFAR ResNet depth must be 6n+2, got {depth}")
        blocks = (depth - 2) // 6
        self.conv1 = conv3x3(in_channels, 16)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = make_stage(BasicBlock, 16, 16, blocks, 1)
        self.layer2 = make_stage(BasicBlock, 16, 32, blocks, 2)
        self.layer3 = make_stage(BasicBlock, 32, 64, blocks, 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, num_classes)
        init_resnet(self)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


VGG_CONFIGS = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
              512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],
}


def make_vgg_features(config, batch_norm, in_channels):
    layers = []
    channels = in_channels
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(channels, item, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(item))
        layers.append(nn.ReLU(inplace=True))
        channels = item
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """torchvision's VGG (head "imagenet": 7x7 average pool and the 4096-4096 classifier with
    dropout) or the "cifar" head: 1x1 average pool and one Linear(512, classes). Five 2x2
    maxpools need an input of at least 32x32."""

    def __init__(self, config, batch_norm, num_classes=1000, in_channels=3, head="imagenet"):
        super().__init__()
        self.features = make_vgg_features(config, batch_norm, in_channels)
        if head == "imagenet":
            self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
            self.classifier = nn.Sequential(
                nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=0.5),
                nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=0.5),
                nn.Linear(4096, num_classes))
        elif head == "cifar":
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.classifier = nn.Sequential(nn.Linear(512, num_classes))
        else:
            raise ValueError(f"VGG head must be 'imagenet' or 'cifar', got '{head}'")
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                nn.init.constant_(module.bias, 0)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0, 0.01)
                nn.init.constant_(module.bias, 0)

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


RESNET_LAYERS = {
    "resnet18": (BasicBlock, [2, 2, 2, 2]),
    "resnet34": (BasicBlock, [3, 4, 6, 3]),
    "resnet50": (Bottleneck, [3, 4, 6, 3]),
    "resnet101": (Bottleneck, [3, 4, 23, 3]),
    "resnet152": (Bottleneck, [3, 8, 36, 3]),
}
CIFAR_RESNET_DEPTHS = {"resnet20": 20, "resnet32": 32, "resnet44": 44, "resnet56": 56,
                       "resnet110": 110}


def model_names():
    vggs = [name + suffix for name in VGG_CONFIGS for suffix in ("", "_bn")]
    return list(RESNET_LAYERS) + list(CIFAR_RESNET_DEPTHS) + vggs


def build_model(name, num_classes=1000, in_channels=3, variant="imagenet"):
    """variant: "imagenet" (torchvision's stem/head) or "cifar" (convoy's small-input stem for
    ResNet, 1x1 head for VGG); the CIFAR ResNets have only one form and ignore it."""
    if name in RESNET_LAYERS:
        block, layers = RESNET_LAYERS[name]
        return ResNet(block, layers, num_classes, in_channels, stem=variant)
    if name in CIFAR_RESNET_DEPTHS:
        return CifarResNet(CIFAR_RESNET_DEPTHS[name], num_classes, in_channels)
    base = name.removesuffix("_bn")
    if base in VGG_CONFIGS:
        return VGG(VGG_CONFIGS[base], name.endswith("_bn"), num_classes, in_channels, head=variant)
    raise ValueError(f"unknown model '{name}', expected one of: {', '.join(model_names())}")


def shapes_of(module):
    return {key: tuple(value.shape) for key, value in module.state_dict().items()}


def expect_same_shapes(name, ours, theirs):
    if ours != theirs:
        missing = sorted(set(theirs) - set(ours))[:5]
        extra = sorted(set(ours) - set(theirs))[:5]
        wrong = sorted(k for k in set(ours) & set(theirs) if ours[k] != theirs[k])[:5]
        raise AssertionError(f"{name}: differs from torchvision: missing {missing}, "
                             f"extra {extra}, wrong shapes {wrong}")


def self_test():
    torch.manual_seed(0)
    try:
        import torchvision
    except ImportError:
        torchvision = None
        print("torchvision not importable: checking shapes only", file=sys.stderr)
    # Parameter names and shapes against torchvision (ResNets; VGG features, whose classifier
    # alone is 120M parameters, are compared without building torchvision's classifier).
    if torchvision is not None:
        for name in RESNET_LAYERS:
            expect_same_shapes(name, shapes_of(build_model(name)),
                               shapes_of(getattr(torchvision.models, name)()))
        from torchvision.models import vgg as tv_vgg
        for name, letter in (("vgg11", "A"), ("vgg13", "B"), ("vgg16", "D"), ("vgg19", "E")):
            for batch_norm in (False, True):
                ours = make_vgg_features(VGG_CONFIGS[name], batch_norm, 3)
                expect_same_shapes(name + ("_bn" if batch_norm else ""), shapes_of(ours),
                                   shapes_of(tv_vgg.make_layers(tv_vgg.cfgs[letter], batch_norm)))
    # The classifier layout of torchvision's VGG, written out.
    classifier = shapes_of(VGG(VGG_CONFIGS["vgg11"], False, 1000).classifier)
    assert classifier == {"0.weight": (4096, 25088), "0.bias": (4096,), "3.weight": (4096, 4096),
                          "3.bias": (4096,), "6.weight": (1000, 4096),
                          "6.bias": (1000,)}, classifier
    # CIFAR ResNet: 6n+2 weighted layers, and the parameter counts of He et al. 2016 table 6
    # (0.27M for resnet20, 1.7M for resnet110; with projection shortcuts slightly more).
    resnet20 = build_model("resnet20", num_classes=10)
    convolutions = [k for k in shapes_of(resnet20) if k.endswith("weight") and
                    len(shapes_of(resnet20)[k]) == 4 and "downsample" not in k]
    assert len(convolutions) + 1 == 20, len(convolutions)  # + fc
    assert "layer2.0.downsample.0.weight" in shapes_of(resnet20)
    assert "layer2.0.downsample.1.running_var" in shapes_of(resnet20)
    assert "layer1.0.downsample.0.weight" not in shapes_of(resnet20)
    count = sum(p.numel() for p in resnet20.parameters())
    assert 0.26e6 < count < 0.28e6, count
    count110 = sum(p.numel() for p in build_model("resnet110", num_classes=10).parameters())
    assert 1.7e6 < count110 < 1.75e6, count110
    # Output shapes on small inputs, incl. 1-channel 28x28 Fashion-MNIST for the CIFAR ResNet.
    cases = [("resnet20", 1, 28, "cifar"), ("resnet56", 3, 32, "cifar"),
             ("resnet18", 1, 28, "cifar"), ("resnet50", 3, 64, "imagenet"),
             ("vgg11_bn", 3, 32, "cifar"), ("vgg11", 1, 32, "cifar")]
    for name, channels, size, variant in cases:
        model = build_model(name, num_classes=10, in_channels=channels, variant=variant).eval()
        with torch.no_grad():
            out = model(torch.randn(2, channels, size, size))
        assert tuple(out.shape) == (2, 10), (name, out.shape)
    cifar18 = shapes_of(build_model("resnet18", variant="cifar"))
    assert cifar18["conv1.weight"] == (64, 3, 3, 3), cifar18["conv1.weight"]
    assert set(cifar18) == set(shapes_of(build_model("resnet18")))  # same names as torchvision
    assert list(shapes_of(build_model("vgg16", 10, 3, "cifar").classifier)) == [
        "0.weight", "0.bias"]
    print("pytorch_models self-test passed")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--self-test", action="store_true", help="check names and shapes")
    parser.add_argument("--list", action="store_true", help="print the model names")
    args = parser.parse_args()
    if args.list:
        print("\n".join(model_names()))
    if args.self_test:
        self_test()
    if not (args.list or args.self_test):
        parser.print_help()


if __name__ == "__main__":
    main()
