"""Analytic reference solutions used to validate the forward models.

- :func:`homogeneous_sphere_potential`: surface potential of a current dipole in a
  homogeneous sphere (Legendre series; e.g. Nunez & Srinivasan 2006, ch. 6):
  ``V = 1/(4 pi sigma R^2) sum_n (2n+1)/n (b/R)^(n-1)``
  ``[n p_r P_n(cos t) + p_t cos(phi) sin(t) P_n'(cos t)]``.
- :func:`sarvas_field`: magnetic field outside a spherically symmetric conductor
  (Sarvas 1987), independent of the conductivities; a radial dipole gives zero.
"""

from __future__ import annotations

import numpy as np
from scipy.special import eval_legendre, lpmv

MU0 = 4e-7 * np.pi


def homogeneous_sphere_potential(
    electrodes: np.ndarray,
    r0: np.ndarray,
    p: np.ndarray,
    radius: float,
    sigma: float,
    n_terms: int = 400,
) -> np.ndarray:
    """Potential (V) at ``electrodes`` (n, 3) on the surface of a sphere (centred at 0,
    ``radius`` m, ``sigma`` S/m) of a dipole ``p`` (A m) at ``r0`` (m)."""
    r0 = np.asarray(r0, dtype=float)
    p = np.asarray(p, dtype=float)
    b = np.linalg.norm(r0)
    ez = r0 / b
    p_r = p @ ez
    pt_vec = p - p_r * ez
    p_t = np.linalg.norm(pt_vec)
    ex = pt_vec / p_t if p_t > 0 else np.cross(ez, [1.0, 0, 0] if abs(ez[0]) < 0.9 else [0, 1.0, 0])
    ex = ex / np.linalg.norm(ex)
    e = np.asarray(electrodes, dtype=float)
    e = e / np.linalg.norm(e, axis=1, keepdims=True)
    cos_t = np.clip(e @ ez, -1, 1)
    perp = e - cos_t[:, None] * ez
    sin_t = np.linalg.norm(perp, axis=1)
    cos_phi_sin_t = perp @ ex  # sin(t) cos(phi)
    v = np.zeros(len(e))
    for n in range(1, n_terms + 1):
        f = (2 * n + 1) / n * (b / radius) ** (n - 1)
        # sin(t) P_n'(cos t) = -P_n^1(cos t) (scipy's lpmv has the Condon-Shortley phase)
        with np.errstate(invalid="ignore", divide="ignore"):
            dpn = np.where(sin_t > 1e-12, -lpmv(1, n, cos_t) / np.maximum(sin_t, 1e-300), 0.0)
        v += f * (n * p_r * eval_legendre(n, cos_t) + p_t * cos_phi_sin_t * dpn)
    return v / (4 * np.pi * sigma * radius**2)


def sarvas_field(sensors: np.ndarray, r0: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Magnetic field (T), (n, 3), at ``sensors`` (n, 3, m; origin at the sphere centre)
    of a dipole ``q`` (A m) at ``r0`` (m)."""
    r = np.asarray(sensors, dtype=float)
    r0 = np.asarray(r0, dtype=float)
    a_vec = r - r0
    a = np.linalg.norm(a_vec, axis=1)
    rn = np.linalg.norm(r, axis=1)
    adotr = (a_vec * r).sum(axis=1)
    f = a * (rn * a + rn**2 - r0 @ r.T)
    grad_f = (a**2 / rn + adotr / a + 2 * a + 2 * rn)[:, None] * r - (a + 2 * rn + adotr / a)[
        :, None
    ] * r0
    qxr0 = np.cross(q, r0)
    return MU0 / (4 * np.pi * f[:, None] ** 2) * (f[:, None] * qxr0 - (r @ qxr0)[:, None] * grad_f)
