"""Small numeric building blocks: noise, diurnal trend, ramps, delays and the lognormal CDF."""

from __future__ import annotations

import numpy as np

from compass_lab.model import FloatArray

# Abramowitz & Stegun 7.1.26: |error| < 1.5e-7, plenty for histogram buckets; numpy has no erf.
_P = 0.3275911
_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def erf(x: FloatArray) -> FloatArray:
    sign = np.sign(x)
    ax = np.abs(x)
    t = 1.0 / (1.0 + _P * ax)
    poly = ((((_A[4] * t + _A[3]) * t + _A[2]) * t + _A[1]) * t + _A[0]) * t
    out: FloatArray = sign * (1.0 - poly * np.exp(-ax * ax))
    return out


def lognormal_cdf(le: float, median: FloatArray, sigma: FloatArray) -> FloatArray:
    """P(X <= le) for X ~ LogNormal(ln median, sigma), elementwise over time."""
    z = (np.log(le) - np.log(np.maximum(median, 1e-9))) / (np.maximum(sigma, 1e-3) * np.sqrt(2.0))
    out: FloatArray = 0.5 * (1.0 + erf(z))
    return out


def diurnal(ts: FloatArray, amplitude: float, peak_hour_utc: float) -> FloatArray:
    hours = (ts % 86400.0) / 3600.0
    out: FloatArray = 1.0 + amplitude * np.cos(2.0 * np.pi * (hours - peak_hour_utc) / 24.0)
    return out


def noise(rng: np.random.Generator, n: int, rel: float) -> FloatArray:
    """Multiplicative noise around 1 with a little autocorrelation (scrapes are not independent)."""
    white = rng.normal(0.0, rel, n)
    smooth = np.convolve(white, np.ones(3) / 3.0, mode="same")
    out: FloatArray = np.exp(0.6 * white + 0.8 * smooth)
    return out


def ramp(n: int, start: int, length: int) -> FloatArray:
    """0 before `start`, rising linearly to 1 over `length` samples, then 1."""
    idx = np.arange(n, dtype=np.float64)
    out: FloatArray = np.clip((idx - start + 1) / max(length, 1), 0.0, 1.0)
    return out


def pulse(n: int, start: int, length: int, rise: int = 2) -> FloatArray:
    """A bump: ramps up over `rise`, holds, ramps down over `rise`."""
    up = ramp(n, start, rise)
    down = ramp(n, start + length, rise)
    out: FloatArray = np.clip(up - down, 0.0, 1.0)
    return out


def shift(arr: FloatArray, samples: int) -> FloatArray:
    """Delay a signal by `samples` (propagation to callers), holding the first value."""
    if samples <= 0:
        return arr
    out: FloatArray = np.concatenate([np.full(samples, arr[0]), arr[:-samples]])
    return out


def blips(rng: np.random.Generator, n: int, count: int, height: float, avoid: tuple[int, int]) -> FloatArray:
    """Occasional short benign excursions (1-3 samples), kept out of the `avoid` index range."""
    out = np.zeros(n)
    for _ in range(count):
        for _attempt in range(5):
            at = int(rng.integers(0, n - 4))
            if not (avoid[0] - 8 <= at <= avoid[1]):
                break
        width = int(rng.integers(1, 4))
        out[at : at + width] += height * rng.uniform(0.5, 1.0)
    return out
