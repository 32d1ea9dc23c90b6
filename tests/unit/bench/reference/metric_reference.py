"""Reference values for tests/unit/bench/metrics.test.ts.

Builds the same integer test images as synthetic-images.ts and measures them with
independent implementations: scikit-image (PSNR, SSIM), numpy transcriptions of Wang's msssim.m
and of the authors' GMSD.m, and torchmetrics' MS-SSIM as a loose cross-check (torchmetrics
takes the last scale's SSIM over a reflect-padded full image instead of the valid region, so
it differs in the 4th decimal). Run:
  pip install scikit-image torch torchmetrics scipy   # e.g. from a local mirror
  python tests/unit/bench/reference/metric_reference.py
"""
import numpy as np
from scipy.signal import convolve2d
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def lcg(seed):
    state = seed & 0xFFFFFFFF
    while True:
        state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
        yield state >> 8


def clamp(v):
    return 0 if v < 0 else 255 if v > 255 else v


def test_card(size):
    rand = lcg(12345)
    img = np.zeros((size, size), np.uint8)
    for y in range(size):
        for x in range(size):
            v = ((x ^ y) & 0x7F) + 40
            dx = x - (size >> 1)
            dy = y - ((size * 2) >> 3)
            if dx * dx + dy * dy < (size >> 2) * (size >> 2):
                v = 200 - (((x + y) >> 2) & 31)
            if (size * 3) >> 2 < y < ((size * 3) >> 2) + (size >> 4):
                v = 20
            img[y, x] = clamp(v + (next(rand) % 24) - 12)
    return img


def blurred_noisy(src, size):
    rand = lcg(777)
    out = np.zeros_like(src)
    for y in range(size):
        for x in range(size):
            s = 0
            for j in (-1, 0, 1):
                for i in (-1, 0, 1):
                    yy = min(size - 1, max(0, y + j))
                    xx = min(size - 1, max(0, x + i))
                    s += int(src[yy, xx])
            out[y, x] = clamp(s // 9 + (next(rand) % 16) - 8)
    return out


def shifted(src, offset):
    return np.clip(src.astype(int) + offset, 0, 255).astype(np.uint8)


def matlab_average_decimate(x):
    """conv2(x, ones(2)/4, 'same') then x(1:2:end, 1:2:end) in Matlab. Matlab's 'same' keeps
    full-convolution rows/cols 2..M+1 for a 2-tap kernel (scipy's 'same' keeps 1..M), so each
    output is the mean of a non-overlapping 2x2 block."""
    full = convolve2d(x, np.ones((2, 2)) / 4, mode="full")
    return full[1:, 1:][::2, ::2]


def wang_msssim(a, b):
    """numpy transcription of Wang's msssim.m / ssim_index_new.m (valid-region filtering)."""
    from scipy.signal import correlate2d

    g = np.exp(-((np.arange(11) - 5) ** 2) / (2 * 1.5**2))
    win = np.outer(g, g)
    win /= win.sum()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    weights = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]
    x, y = a.astype(np.float64), b.astype(np.float64)
    out = 1.0
    for level, w in enumerate(weights):
        f = lambda im: correlate2d(im, win, mode="valid")
        mx, my = f(x), f(y)
        vx, vy, cxy = f(x * x) - mx * mx, f(y * y) - my * my, f(x * y) - mx * my
        cs = (2 * cxy + c2) / (vx + vy + c2)
        lum = (2 * mx * my + c1) / (mx * mx + my * my + c1)
        out *= (np.mean(lum * cs) if level == len(weights) - 1 else np.mean(cs)) ** w
        x, y = matlab_average_decimate(x), matlab_average_decimate(y)
    return float(out)


def gmsd(a, b):
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    a = matlab_average_decimate(a)
    b = matlab_average_decimate(b)
    dx = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]]) / 3
    dy = dx.T
    ga = np.sqrt(convolve2d(a, dx, mode="same") ** 2 + convolve2d(a, dy, mode="same") ** 2)
    gb = np.sqrt(convolve2d(b, dx, mode="same") ** 2 + convolve2d(b, dy, mode="same") ** 2)
    t = 170
    q = (2 * ga * gb + t) / (ga**2 + gb**2 + t)
    return float(np.std(q, ddof=1))


def torchmetrics_msssim(a, b):
    import torch
    from torchmetrics.functional.image import multiscale_structural_similarity_index_measure as ms

    ta = torch.from_numpy(a.astype(np.float64))[None, None]
    tb = torch.from_numpy(b.astype(np.float64))[None, None]
    return float(ms(tb, ta, data_range=255.0, kernel_size=11, sigma=1.5))


def main():
    size = 256
    card = test_card(size)
    pairs = {"blurredNoisy": blurred_noisy(card, size), "shifted10": shifted(card, 10)}
    for name, other in pairs.items():
        ssim = structural_similarity(card, other, gaussian_weights=True, sigma=1.5,
                                     use_sample_covariance=False, data_range=255)
        print(name, {
            "psnr": peak_signal_noise_ratio(card, other, data_range=255),
            "ssim": ssim,
            "msssim": wang_msssim(card, other),
            "msssimTorchmetrics": torchmetrics_msssim(card, other),
            "gmsd": gmsd(card, other),
        })
    # Checksums so the TypeScript test can prove it built the same images.
    print("checksums", int(card.astype(np.int64).sum()), int(pairs["blurredNoisy"].astype(np.int64).sum()))


if __name__ == "__main__":
    main()
