#![allow(clippy::useless_conversion)] // the #[pyfunction] expansion of pyo3 0.22 converts PyErr into itself
//! `resgen._resgen`: the Python face of `resgen-kernels` (see `python/resgen/__init__.py` for
//! the documented functions). Arrays come in as float64 numpy arrays, are checked (shape,
//! NaN, inf, zero rows) with a `ValueError` naming the argument, and go out as new float64
//! arrays.

use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use resgen_kernels::analytic::{self, Kernel, Spec};
use resgen_kernels::{Gram, linalg};

fn value_error(name: &str, message: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(format!("{name}: {message}"))
}

/// A 2-D float64 array as row-major values, checked: `rows x cols`, every entry finite.
fn matrix(name: &str, a: &PyReadonlyArray2<f64>) -> PyResult<(Vec<f64>, usize, usize)> {
    let [r, c] = [a.shape()[0], a.shape()[1]];
    let v: Vec<f64> = a.as_array().iter().copied().collect();
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(value_error(name, format!("entry ({}, {}) is {}", i / c.max(1), i % c.max(1), v[i])));
    }
    if r == 0 || c == 0 {
        return Err(value_error(name, format!("shape ({r}, {c}) is empty")));
    }
    Ok((v, r, c))
}

/// Inputs of a kernel: rows must be non-zero (their norms enter the recursion).
fn inputs(name: &str, a: &PyReadonlyArray2<f64>) -> PyResult<(Vec<f64>, usize, usize)> {
    let (v, r, c) = matrix(name, a)?;
    if let Some(i) = (0..r).find(|&i| v[i * c..(i + 1) * c].iter().all(|x| *x == 0.0)) {
        return Err(value_error(name, format!("row {i} is zero; the kernels need non-zero inputs")));
    }
    Ok((v, r, c))
}

/// The network from the keyword arguments, each checked by name.
fn spec(arch: &str, depth: i64, theta: &str, branch: &str, residual_variance: &str) -> PyResult<Spec> {
    if depth < 1 {
        return Err(value_error("depth", format!("must be at least 1, got {depth}")));
    }
    let depth = depth as usize;
    let v = match residual_variance {
        "2/m" => 2.0,
        "1/m" => 1.0,
        other => return Err(value_error("residual_variance", format!("expected \"2/m\" or \"1/m\", got {other:?}"))),
    };
    let theta = || resgen_kernels::theta::value(theta, depth).map_err(|e| value_error("theta", e));
    let spec = match (arch, branch) {
        ("fc", _) => Spec::Fc { depth },
        ("resnet", "one-layer") => Spec::Resnet { depth, theta: theta()?, v },
        ("resnet", "two-layer") => Spec::ResnetTwoLayer { depth, theta: theta()?, v, u: 1.0 },
        ("resnet", other) => {
            return Err(value_error("branch", format!("expected \"one-layer\" or \"two-layer\", got {other:?}")));
        }
        (other, _) => return Err(value_error("arch", format!("expected \"resnet\" or \"fc\", got {other:?}"))),
    };
    spec.validate().map_err(|e| value_error("arguments", e))?;
    Ok(spec)
}

#[allow(clippy::too_many_arguments)]
fn kernel<'py>(
    py: Python<'py>,
    which: Kernel,
    x1: PyReadonlyArray2<'py, f64>,
    x2: Option<PyReadonlyArray2<'py, f64>>,
    arch: &str,
    depth: i64,
    theta: &str,
    branch: &str,
    residual_variance: &str,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let spec = spec(arch, depth, theta, branch, residual_variance)?;
    let (a, n1, d) = inputs("x1", &x1)?;
    let out = match x2 {
        None => {
            let k = py.allow_threads(|| analytic::kernel(which, spec, &a, n1, d));
            (k.data, n1, n1)
        }
        Some(x2) => {
            let (b, n2, d2) = inputs("x2", &x2)?;
            if d2 != d {
                return Err(value_error("x2", format!("has {d2} columns, x1 has {d}")));
            }
            (py.allow_threads(|| analytic::cross(which, spec, &a, n1, &b, n2, d)), n1, n2)
        }
    };
    let (data, r, c) = out;
    Ok(numpy::ndarray::Array2::from_shape_vec((r, c), data).expect("r * c values").into_pyarray_bound(py))
}

/// See `resgen.ntk`.
#[pyfunction]
#[pyo3(signature = (x1, x2=None, *, arch="resnet", depth=1, theta="1/L", branch="one-layer", residual_variance="2/m"))]
#[allow(clippy::too_many_arguments)]
fn ntk<'py>(
    py: Python<'py>,
    x1: PyReadonlyArray2<'py, f64>,
    x2: Option<PyReadonlyArray2<'py, f64>>,
    arch: &str,
    depth: i64,
    theta: &str,
    branch: &str,
    residual_variance: &str,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    kernel(py, Kernel::Ntk, x1, x2, arch, depth, theta, branch, residual_variance)
}

/// See `resgen.nngp`.
#[pyfunction]
#[pyo3(signature = (x1, x2=None, *, arch="resnet", depth=1, theta="1/L", branch="one-layer", residual_variance="2/m"))]
#[allow(clippy::too_many_arguments)]
fn nngp<'py>(
    py: Python<'py>,
    x1: PyReadonlyArray2<'py, f64>,
    x2: Option<PyReadonlyArray2<'py, f64>>,
    arch: &str,
    depth: i64,
    theta: &str,
    branch: &str,
    residual_variance: &str,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    kernel(py, Kernel::Nngp, x1, x2, arch, depth, theta, branch, residual_variance)
}

/// See `resgen.kernel_regression`.
#[pyfunction]
#[pyo3(signature = (k_train, y, k_test, ridge=0.0))]
fn kernel_regression<'py>(
    py: Python<'py>,
    k_train: PyReadonlyArray2<'py, f64>,
    y: PyReadonlyArray1<'py, f64>,
    k_test: PyReadonlyArray2<'py, f64>,
    ridge: f64,
) -> PyResult<(Bound<'py, PyArray1<f64>>, f64)> {
    let (k, n, n2) = matrix("k_train", &k_train)?;
    if n != n2 {
        return Err(value_error("k_train", format!("must be square, got ({n}, {n2})")));
    }
    let y: Vec<f64> = y.as_array().iter().copied().collect();
    if y.len() != n {
        return Err(value_error("y", format!("has {} entries for a {n} x {n} k_train", y.len())));
    }
    if let Some(i) = y.iter().position(|v| !v.is_finite()) {
        return Err(value_error("y", format!("entry {i} is {}", y[i])));
    }
    let (kt, _, c) = matrix("k_test", &k_test)?;
    if c != n {
        return Err(value_error("k_test", format!("has {c} columns, k_train is {n} x {n}")));
    }
    if !(ridge.is_finite() && ridge >= 0.0) {
        return Err(value_error("ridge", format!("must be finite and >= 0, got {ridge}")));
    }
    let mut g = Gram { n, data: k };
    for i in 0..n {
        g.data[i * n + i] += ridge;
    }
    let chol = linalg::cholesky_with_ridge(&g).map_err(|e| value_error("k_train", e))?;
    let alpha = chol.solve(&y);
    let pred: Vec<f64> = kt.chunks(n).map(|row| row.iter().zip(&alpha).map(|(a, b)| a * b).sum()).collect();
    Ok((pred.into_pyarray_bound(py), ridge + chol.ridge))
}

/// The compiled module.
#[pymodule]
fn _resgen(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(ntk, m)?)?;
    m.add_function(wrap_pyfunction!(nngp, m)?)?;
    m.add_function(wrap_pyfunction!(kernel_regression, m)?)?;
    Ok(())
}
