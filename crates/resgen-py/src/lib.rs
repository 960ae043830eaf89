#![allow(clippy::useless_conversion)] // the #[pyfunction] expansion of pyo3 0.22 converts PyErr into itself
//! `resgen._resgen`: the Python face of `resgen-kernels` (see `python/resgen/__init__.py` for
//! the documented functions). Arrays come in as float64 numpy arrays, are checked (shape,
//! NaN, inf, zero rows) with a `ValueError` naming the argument, and go out as new float64
//! arrays.

use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArray3, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use resgen_kernels::analytic::{self, Kernel, Spec};
use resgen_kernels::formulas::{self, BoundConstants};
use resgen_kernels::{linalg, Gram};
use resgen_kernels::{ntrf, qp};

fn value_error(name: &str, message: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(format!("{name}: {message}"))
}

/// A 2-D float64 array's row-major values, borrowed without a copy (the Python wrappers make
/// every array C-contiguous), checked: `rows x cols`, every entry finite.
fn matrix<'a>(name: &str, a: &'a PyReadonlyArray2<f64>) -> PyResult<(&'a [f64], usize, usize)> {
    let [r, c] = [a.shape()[0], a.shape()[1]];
    let v = a.as_slice().map_err(|_| value_error(name, "must be C-contiguous (numpy.ascontiguousarray)"))?;
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(value_error(name, format!("entry ({}, {}) is {}", i / c.max(1), i % c.max(1), v[i])));
    }
    if r == 0 || c == 0 {
        return Err(value_error(name, format!("shape ({r}, {c}) is empty")));
    }
    Ok((v, r, c))
}

/// Inputs of a kernel: rows must be non-zero (their norms enter the recursion).
fn inputs<'a>(name: &str, a: &'a PyReadonlyArray2<f64>) -> PyResult<(&'a [f64], usize, usize)> {
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

/// See `resgen.ntk` and `resgen.nngp` (`which` is "ntk" or "nngp").
#[pyfunction]
#[pyo3(signature = (which, x1, x2, *, arch, depth, theta, branch, residual_variance))]
#[allow(clippy::too_many_arguments)]
fn kernel<'py>(
    py: Python<'py>,
    which: &str,
    x1: PyReadonlyArray2<'py, f64>,
    x2: Option<PyReadonlyArray2<'py, f64>>,
    arch: &str,
    depth: i64,
    theta: &str,
    branch: &str,
    residual_variance: &str,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let which = match which {
        "ntk" => Kernel::Ntk,
        "nngp" => Kernel::Nngp,
        other => return Err(value_error("which", format!("expected \"ntk\" or \"nngp\", got {other:?}"))),
    };
    let spec = spec(arch, depth, theta, branch, residual_variance)?;
    let (a, n1, d) = inputs("x1", &x1)?;
    let (data, r, c) = match x2 {
        None => (py.allow_threads(|| analytic::kernel(which, spec, a, n1, d)).data, n1, n1),
        Some(x2) => {
            let (b, n2, d2) = inputs("x2", &x2)?;
            if d2 != d {
                return Err(value_error("x2", format!("has {d2} columns, x1 has {d}")));
            }
            (py.allow_threads(|| analytic::cross(which, spec, a, n1, b, n2, d)), n1, n2)
        }
    };
    Ok(numpy::ndarray::Array2::from_shape_vec((r, c), data).expect("r * c values").into_pyarray_bound(py))
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
    let mut g = Gram { n, data: k.to_vec() };
    for i in 0..n {
        g.data[i * n + i] += ridge;
    }
    let chol = linalg::cholesky_with_ridge(&g).map_err(|e| value_error("k_train", e))?;
    let alpha = chol.solve(&y);
    let pred: Vec<f64> = kt.chunks(n).map(|row| row.iter().zip(&alpha).map(|(a, b)| a * b).sum()).collect();
    Ok((pred.into_pyarray_bound(py), ridge + chol.ridge))
}

/// A 1-D float64 array, checked: `len` entries (when given), every entry finite.
fn vector(name: &str, a: &PyReadonlyArray1<f64>, len: Option<usize>) -> PyResult<Vec<f64>> {
    let v: Vec<f64> = a.as_array().iter().copied().collect();
    if let Some(n) = len.filter(|&n| n != v.len()) {
        return Err(value_error(name, format!("has {} entries, expected {n}", v.len())));
    }
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(value_error(name, format!("entry {i} is {}", v[i])));
    }
    Ok(v)
}

/// Labels: +1 or -1 each.
fn labels(name: &str, a: &PyReadonlyArray1<f64>, n: usize) -> PyResult<Vec<f64>> {
    let y = vector(name, a, Some(n))?;
    if let Some(i) = y.iter().position(|v| v.abs() != 1.0) {
        return Err(value_error(name, format!("entry {i} is {}; labels must be -1 or +1", y[i])));
    }
    Ok(y)
}

/// See `resgen.eps_ntrf`.
#[pyfunction]
#[pyo3(signature = (kernels, y, radius, *, width, f0=None, tol=1e-4, gap_tol=1e-5, max_iter=2000))]
#[allow(clippy::too_many_arguments)]
fn eps_ntrf<'py>(
    py: Python<'py>,
    kernels: PyReadonlyArray3<'py, f64>,
    y: PyReadonlyArray1<'py, f64>,
    radius: f64,
    width: usize,
    f0: Option<PyReadonlyArray1<'py, f64>>,
    tol: f64,
    gap_tol: f64,
    max_iter: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let shape = kernels.shape().to_vec();
    let (blocks, n) = (shape[0], shape[1]);
    if blocks == 0 || n == 0 || shape[2] != n {
        return Err(value_error("kernels", format!("expected shape (blocks, n, n), got {shape:?}")));
    }
    let flat: Vec<f64> = kernels.as_array().iter().copied().collect();
    if let Some(i) = flat.iter().position(|v| !v.is_finite()) {
        return Err(value_error("kernels", format!("entry {i} (flattened) is {}", flat[i])));
    }
    let per_layer: Vec<Gram> = flat.chunks(n * n).map(|c| Gram { n, data: c.to_vec() }).collect();
    let y = labels("y", &y, n)?;
    let f0 = match f0 {
        Some(f) => vector("f0", &f, Some(n))?,
        None => vec![0.0; n],
    };
    if !(radius.is_finite() && radius > 0.0) {
        return Err(value_error("radius", format!("must be finite and > 0, got {radius}")));
    }
    if width == 0 {
        return Err(value_error("width", "must be at least 1"));
    }
    if !(tol > 0.0 && gap_tol > 0.0 && max_iter > 0) {
        return Err(value_error("tol", "tol, gap_tol and max_iter must be > 0"));
    }
    let problem = ntrf::NtrfProblem { per_layer: &per_layer, f0: &f0, y: &y, width };
    let limits = ntrf::SolverLimits { tol, gap_tol, max_iter };
    let s = py.allow_threads(|| ntrf::solve(problem, radius, None, limits));
    let d = PyDict::new_bound(py);
    d.set_item("eps_ntrf", s.loss)?;
    d.set_item("gap", s.gap)?;
    d.set_item("lower", s.loss - s.gap)?;
    d.set_item("kkt_residual", s.kkt_residual)?;
    d.set_item("scaled_norms", s.scaled_norms)?;
    d.set_item("active", s.active)?;
    d.set_item("iterations", s.iterations)?;
    Ok(d)
}

/// See `resgen.relabeling`.
#[pyfunction]
#[pyo3(signature = (k, y, rel_tol=1e-6, max_sweeps=20000))]
fn relabeling<'py>(
    py: Python<'py>,
    k: PyReadonlyArray2<'py, f64>,
    y: PyReadonlyArray1<'py, f64>,
    rel_tol: f64,
    max_sweeps: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let (data, n, c) = matrix("k", &k)?;
    if n != c {
        return Err(value_error("k", format!("must be square, got ({n}, {c})")));
    }
    let y = labels("y", &y, n)?;
    let g = Gram { n, data: data.to_vec() };
    let r =
        py.allow_threads(|| qp::infimum_relabeling(&g, &y, rel_tol, max_sweeps)).map_err(|e| value_error("k", e))?;
    let d = PyDict::new_bound(py);
    d.set_item("value", r.value)?;
    d.set_item("value_at_y", r.value_at_y)?;
    d.set_item("complexity", r.complexity())?;
    d.set_item("complexity_at_y", r.complexity_at_y())?;
    d.set_item("gap", r.gap)?;
    d.set_item("ridge", r.ridge)?;
    d.set_item("sweeps", r.sweeps)?;
    d.set_item("y_tilde", r.y_tilde.into_pyarray_bound(py))?;
    Ok(d)
}

/// The bound constants from keyword arguments, checked (the error names the field).
fn constants(delta: f64, c_eps: f64, c_radius: f64, c_conf: f64, c_ntk: f64) -> PyResult<BoundConstants> {
    let k = BoundConstants { delta, c_eps, c_radius, c_conf, c_ntk };
    k.validate().map_err(|e| match e {
        resgen_kernels::KernelError::Constant { name, value } => {
            value_error(name, format!("{value}: must be a finite number >= 0"))
        }
        other => value_error("delta", other),
    })?;
    Ok(k)
}

/// See `resgen.bound`.
#[pyfunction]
#[pyo3(signature = (name, *, n, depth=None, eps_ntrf=None, radius=None, complexity=None, delta=0.05, c_eps=4.0, c_radius=1.0, c_conf=1.0, c_ntk=1.0))]
#[allow(clippy::too_many_arguments)]
fn bound(
    name: &str,
    n: usize,
    depth: Option<usize>,
    eps_ntrf: Option<f64>,
    radius: Option<f64>,
    complexity: Option<f64>,
    delta: f64,
    c_eps: f64,
    c_radius: f64,
    c_conf: f64,
    c_ntk: f64,
) -> PyResult<f64> {
    let k = constants(delta, c_eps, c_radius, c_conf, c_ntk)?;
    if n == 0 {
        return Err(value_error("n", "must be at least 1"));
    }
    let need = |v: Option<f64>, arg: &str| -> PyResult<f64> {
        let v = v.ok_or_else(|| value_error(arg, format!("bound {name:?} needs it")))?;
        if !(v.is_finite() && v >= 0.0) {
            return Err(value_error(arg, format!("must be finite and >= 0, got {v}")));
        }
        Ok(v)
    };
    let hidden = || -> PyResult<usize> {
        match depth {
            Some(l) if l >= 1 => Ok(formulas::cao_gu_depth(l)),
            Some(l) => Err(value_error("depth", format!("must be at least 1, got {l}"))),
            None => Err(value_error("depth", format!("bound {name:?} needs it"))),
        }
    };
    Ok(match name {
        "cao-gu-fc" => formulas::cao_gu_fc(need(eps_ntrf, "eps_ntrf")?, hidden()?, need(radius, "radius")?, n, &k),
        "frei-cao-gu-resnet" => {
            formulas::frei_cao_gu_resnet(need(eps_ntrf, "eps_ntrf")?, need(radius, "radius")?, n, &k)
        }
        "cao-gu-ntk" => formulas::cao_gu_ntk(need(complexity, "complexity")?, hidden()?, n, &k),
        other => {
            return Err(value_error(
                "name",
                format!("expected \"cao-gu-fc\", \"frei-cao-gu-resnet\" or \"cao-gu-ntk\", got {other:?}"),
            ));
        }
    })
}

/// The compiled module.
#[pymodule]
fn _resgen(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(kernel, m)?)?;
    m.add_function(wrap_pyfunction!(kernel_regression, m)?)?;
    m.add_function(wrap_pyfunction!(eps_ntrf, m)?)?;
    m.add_function(wrap_pyfunction!(relabeling, m)?)?;
    m.add_function(wrap_pyfunction!(bound, m)?)?;
    Ok(())
}
