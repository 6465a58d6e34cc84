import pytest
import torch

from convattn import MLP, count_params, fc_params


def test_mlp_shapes_and_params():
    model = MLP(64, (32, 16), 10)
    assert model(torch.randn(5, 1, 8, 8)).shape == (5, 10)
    assert count_params(model) == fc_params(64, 32) + fc_params(32, 16) + fc_params(16, 10)
    assert isinstance(model[1], torch.nn.Linear) and model[1].weight.shape == (32, 64)


def test_every_parameter_gets_a_gradient():
    model = MLP(64, (32,), 10)
    model(torch.randn(4, 64)).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_mlp_bad_input():
    with pytest.raises(ValueError, match=r"hidden\[0\] must be >= 1"):
        MLP(hidden=(0,))


# ---------------------------------------------------------------- chapter 5: hybrid (CoAtNet)

from convattn import parameter_table  # noqa: E402
from convattn.analysis.params import mbconv_params, transformer_block_params  # noqa: E402
from convattn.models.blocks import MBConv  # noqa: E402
from convattn.models.hybrid import HybridConfig, HybridNet, coatnet_block  # noqa: E402
from convattn.models.vision import CNNConfig, SmallCNN, SmallViT, ViTConfig  # noqa: E402

# The closed forms of whole models: only these tests need them.


def hybrid_params(config) -> int:
    """Closed form of count_params(HybridNet(config))."""
    c = config
    # stem conv (no bias) + BN
    n = c.in_channels * c.stem_channels * 9 + 2 * c.stem_channels
    width = c.stem_channels
    for kind, out, depth, side in zip(c.layout, c.widths, c.depths, c.resolutions(), strict=True):
        for _ in range(depth):
            if kind == "C":
                n += mbconv_params(width, out, expansion=c.expansion, se_ratio=c.se_ratio)
            else:
                n += transformer_block_params(width, out, side, head_dim=c.head_dim, mlp_ratio=c.mlp_ratio)
            width = out
    # final LayerNorm + classifier
    return n + 2 * width + width * c.n_classes + c.n_classes


def cnn_params(config) -> int:
    """Closed form of count_params(SmallCNN(config)): Σ (9·C_in·C_out + C_out [+ 2·C_out
    BN]) + classifier."""
    n, width = 0, config.in_channels
    for ch in config.channels:
        n += 9 * width * ch + ch + (2 * ch if config.batchnorm else 0)
        width = ch
    return n + width * config.n_classes + config.n_classes


def vit_params(config) -> int:
    """Closed form of count_params(SmallViT(config))."""
    c = config
    n = c.in_channels * c.patch_size**2 * c.dim + c.dim  # patch embedding
    n += c.dim * c.grid**2 if c.positions else 0
    n += c.depth * transformer_block_params(
        c.dim, c.dim, c.grid, head_dim=c.head_dim, mlp_ratio=c.mlp_ratio, relative=False
    )
    return n + 2 * c.dim + c.dim * c.n_classes + c.n_classes


def mlp_params(n_in: int, hidden, n_out: int) -> int:
    """Closed form of count_params(MLP(n_in, hidden, n_out)): one weight and one bias
    per layer."""
    widths = [n_in, *hidden, n_out]
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=True))


def assert_every_parameter_learns(model, x):
    model.train()
    model(x).square().mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"{name} gets no gradient"


@pytest.mark.parametrize(
    "in_dim, out_dim, stride, se_ratio",
    [(8, 8, 1, 0.25), (8, 12, 1, 0.25), (8, 16, 2, 0.25), (6, 6, 2, 0.0), (4, 10, 1, 0.5)],
)
def test_mbconv_shapes_params_gradients(in_dim, out_dim, stride, se_ratio):
    block = MBConv(in_dim, out_dim, stride=stride, se_ratio=se_ratio)
    x = torch.randn(3, in_dim, 6, 6)
    assert block(x).shape == (3, out_dim, 6 // stride, 6 // stride)
    assert count_params(block) == mbconv_params(in_dim, out_dim, se_ratio=se_ratio)
    assert_every_parameter_learns(block, x)


def test_mbconv_param_count_by_hand():
    # C = 8, expansion 2 → hidden 16: BN 16; expand 8·16 + 16; depthwise 16·9 + 16;
    # SE (squeeze 2): 16·2 + 2 + 2·16 + 16; project 16·8 + 8
    assert mbconv_params(8, 8, expansion=2) == 16 + 144 + 160 + 82 + 136 == 538
    assert count_params(MBConv(8, 8, expansion=2)) == 538


def test_mbconv_without_se_and_identity_shortcut_is_a_residual():
    block = MBConv(4, 4, se_ratio=0.0)
    with torch.no_grad():
        block.project.weight.zero_()
        block.project.bias.zero_()
    x = torch.randn(2, 4, 5, 5)
    torch.testing.assert_close(block(x), x)  # the branch is switched off: only the shortcut remains


@pytest.mark.parametrize(
    "in_dim, out_dim, stride, relative", [(8, 8, 1, True), (8, 16, 2, True), (16, 16, 1, False)]
)
def test_transformer_block_shapes_params_gradients(in_dim, out_dim, stride, relative):
    size = 4 // stride
    block = coatnet_block(in_dim, out_dim, size, stride=stride, head_dim=4, relative=relative)
    x = torch.randn(2, 16, in_dim)  # the tokens of a 4×4 feature map
    out, weights = block(x, return_weights=True)
    assert out.shape == (2, size * size, out_dim)
    assert weights.shape == (2, out_dim // 4, size * size, size * size)
    torch.testing.assert_close(block(x), out)
    assert count_params(block) == transformer_block_params(
        in_dim, out_dim, size, head_dim=4, relative=relative
    )
    assert_every_parameter_learns(block, x)


def test_transformer_block_param_count_by_hand():
    # C = 8, 2 heads of 4 on a 2×2 grid, MLP ratio 2: LayerNorms 32; qkv 8·24 + 24; proj 8·8 + 8;
    # tables 2·3·3; MLP 8·16 + 16 + 16·8 + 8
    assert transformer_block_params(8, 8, 2, head_dim=4, mlp_ratio=2) == 32 + 216 + 72 + 18 + 280 == 618
    assert count_params(coatnet_block(8, 8, 2, head_dim=4, mlp_ratio=2)) == 618


@pytest.mark.parametrize("layout", ["CCCC", "CCCT", "CCTT", "CTTT", "TTTT", "CT"])
def test_hybrid_layouts_shapes_params_gradients(layout):
    n = len(layout)
    config = HybridConfig(
        layout=layout,
        widths=(8, 8, 12, 16)[:n],
        stem_stride=2,
        strides=(1, 1, 1, 2)[:n],
        depths=(1, 2, 1, 1)[:n],
    )
    model = HybridNet(config)
    x = torch.randn(3, 1, 8, 8)
    assert model(x).shape == (3, 10)
    assert count_params(model) == hybrid_params(config)
    kinds = ["C" if isinstance(stage, torch.nn.Sequential) else "T" for stage in model.stages]
    assert "".join(kinds) == layout
    assert_every_parameter_learns(model, x)


def test_default_hybrid_resolutions_and_sizes_are_comparable():
    assert HybridConfig().resolutions() == (8, 4, 4, 2)
    assert HybridConfig(image_size=16, stem_stride=2, strides=(1, 1, 1, 1)).resolutions() == (8, 8, 8, 8)
    counts = [
        hybrid_params(HybridConfig(layout=layout)) for layout in ("CCCC", "CCCT", "CCTT", "CTTT", "TTTT")
    ]
    assert max(counts) / min(counts) < 1.1  # a T stage costs about what a C stage does


def test_small_cnn_and_vit_shapes_params_gradients():
    cnn_config = CNNConfig(channels=(8, 12), strides=(1, 2))
    cnn = SmallCNN(cnn_config)
    x = torch.randn(4, 1, 8, 8)
    assert cnn(x).shape == (4, 10) and count_params(cnn) == cnn_params(cnn_config)
    assert cnn_params(CNNConfig(channels=(4,), strides=(1,), batchnorm=False)) == 9 * 4 + 4 + 4 * 10 + 10
    assert_every_parameter_learns(cnn, x)
    for positions in (True, False):
        vit_config = ViTConfig(dim=16, depth=2, head_dim=8, positions=positions)
        vit = SmallViT(vit_config)
        assert vit(x).shape == (4, 10) and count_params(vit) == vit_params(vit_config)
        assert_every_parameter_learns(vit, x)
    assert vit_params(ViTConfig(dim=16)) - vit_params(ViTConfig(dim=16, positions=False)) == 16 * 4 * 4
    assert count_params(MLP(64, (20, 10), 10)) == mlp_params(64, (20, 10), 10)


def test_vit_without_positions_is_invariant_to_patch_sized_shifts_only():
    torch.manual_seed(0)
    vit = SmallViT(ViTConfig(image_size=8, patch_size=2, dim=16, positions=False)).double().eval()
    x = torch.randn(3, 1, 8, 8, dtype=torch.float64)
    out = vit(x)
    torch.testing.assert_close(vit(torch.roll(x, (2, -4), dims=(2, 3))), out)  # patches permuted
    assert (vit(torch.roll(x, 1, dims=3)) - out).abs().max() > 1e-3  # a 1-pixel shift changes every patch
    with_positions = SmallViT(ViTConfig(image_size=8, patch_size=2, dim=16)).double().eval()
    assert (with_positions(torch.roll(x, 2, dims=3)) - with_positions(x)).abs().max() > 1e-3


def test_parameter_table_prints_and_returns_counts(capsys):
    counts = parameter_table(
        {"mlp": MLP(64, (10,), 10), "cnn": SmallCNN(CNNConfig(channels=(4,), strides=(1,)))}
    )
    assert counts == {"mlp": 760, "cnn": count_params(SmallCNN(CNNConfig(channels=(4,), strides=(1,))))}
    out = capsys.readouterr().out
    assert "mlp" in out and "760" in out and "vs median" in out


# One case per guard, by its type and key phrase (check_module_dtype of convattn._validate too).
@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: HybridNet()(torch.zeros(2, 1, 16, 16)), ValueError, r"x must have shape \(B, 1, 8, 8\)"),
        (lambda: MBConv(4, 4, kernel_size=4), ValueError, "kernel_size must be odd"),
        (lambda: HybridConfig(layout="CCXT"), ValueError, "layout must be letters C and T"),
        (lambda: MLP(64, (8,), 10)(torch.zeros(2, 63)), ValueError, r"x must be \(batch, \.\.\.\) with n_in"),
        (
            lambda: MLP(64, (8,), 10)(torch.zeros(2, 64, dtype=torch.float64)),
            TypeError,
            "x must be torch.float32, as the module",
        ),
    ],
)
def test_hybrid_models_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()
