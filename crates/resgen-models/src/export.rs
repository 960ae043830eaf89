//! Saving weights: Burn's own burnpack format, and safetensors for NumPy and PyTorch.
//!
//! Safetensors files are written and read by the `safetensors` crate (the format's reference
//! implementation, already in Burn's dependency tree). They name the tensors `W1 .. W{L+1}`
//! (then `V2 .. VL` for two-layer branches, or a general-path network's own names such as
//! `alpha2 .. alphaL`) in the paper's `[fan_out, fan_in]` layout, with the architecture and
//! theta in the header's metadata. Burnpack files hold the paper networks' weights.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use burn::module::{Module, Param};
use burn::tensor::Tensor;

use crate::{Model, ModelError, Net, Precision};

/// The weights as a Burn module, so Burn's own file format can store them.
#[derive(Module, Debug)]
struct Weights {
    layers: Vec<Param<Tensor<2>>>,
}

fn file_error(path: &Path, message: String) -> ModelError {
    ModelError::File { path: path.to_path_buf(), message }
}

/// Saves the weights in Burn's burnpack format (`Module::save_file`).
pub fn save_burnpack(net: &Net, path: &Path) -> Result<(), ModelError> {
    let module = Weights { layers: net.tensors().into_iter().map(Param::from_tensor).collect() };
    module.save_file(path).map_err(|e| file_error(path, format!("cannot save burnpack: {e:?}")))
}

/// Reads weights saved by [`save_burnpack`] into a network of `template`'s configuration and
/// shapes (its own weights are replaced); a file whose tensors do not fit is an error naming it.
pub fn load_burnpack(template: &Net, path: &Path) -> Result<Net, ModelError> {
    let module = Weights { layers: template.tensors().into_iter().map(Param::from_tensor).collect() };
    let loaded = module.try_load_file(path).map_err(|e| file_error(path, format!("cannot load burnpack: {e:?}")))?;
    let mut net = template.clone();
    net.set_tensors(loaded.layers.into_iter().map(|p| p.val()).collect());
    Ok(net)
}

/// Writes a network's parameters as safetensors, in its own precision, to `path` (not
/// atomically; callers write to a temporary name and rename): the names of [`Model::names`]
/// (`W1 .. W{L+1}`, then `V2 .. VL` or the network's own), with the architecture and theta in
/// the header's metadata.
pub fn save_safetensors(net: &Model, path: &Path) -> std::io::Result<()> {
    let precision = net.precision();
    let dtype = match precision {
        Precision::F32 => Dtype::F32,
        Precision::F64 => Dtype::F64,
    };
    let tensors: Vec<(String, Vec<usize>, Vec<u8>)> = net
        .names()
        .into_iter()
        .zip(net.shapes())
        .zip(net.host_weights())
        .map(|((name, shape), values)| {
            let bytes = values
                .into_iter()
                .flat_map(|v| match precision {
                    Precision::F32 => (v as f32).to_le_bytes().to_vec(),
                    Precision::F64 => v.to_le_bytes().to_vec(),
                })
                .collect();
            (name, shape, bytes)
        })
        .collect();
    let views = tensors
        .iter()
        .map(|(name, shape, bytes)| Ok((name.clone(), TensorView::new(dtype, shape.clone(), bytes)?)))
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()
        .map_err(std::io::Error::other)?;
    let cfg = net.cfg();
    let meta = HashMap::from([
        ("arch".to_string(), cfg.arch.name().to_string()),
        ("branch".to_string(), cfg.branch.name().to_string()),
        ("theta".to_string(), net.theta().to_string()),
    ]);
    safetensors::serialize_to_file(views, Some(meta), path).map_err(std::io::Error::other)
}

/// One named tensor read back from a file: `(name, shape, values as f64)`.
pub type NamedTensor = (String, Vec<usize>, Vec<f64>);

/// Reads a safetensors file written by [`save_safetensors`]: `(name, shape, values)` per tensor,
/// in the order of the names `W1, W2, ..., W{L+1}`, then `V2, ..., VL` (two-layer branches).
pub fn load_safetensors(path: &Path) -> Result<Vec<NamedTensor>, ModelError> {
    let err = |m: String| file_error(path, m);
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let file = SafeTensors::deserialize(&bytes).map_err(|e| err(format!("not a safetensors file: {e}")))?;
    let mut out = Vec::new();
    for (name, view) in file.tensors() {
        let raw = view.data();
        let values = match view.dtype() {
            Dtype::F32 => raw.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64).collect(),
            Dtype::F64 => raw.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect(),
            other => return Err(err(format!("{name}: unsupported dtype {other:?}"))),
        };
        out.push((name, view.shape().to_vec(), values));
    }
    // W1..W{L+1} first, then the two-layer branches' V2..VL (or other names, such as alpha2..),
    // each by number (the header's own order is alphabetical: W10 before W2).
    out.sort_by_key(|(n, _, _)| {
        let digits = n.find(|c: char| c.is_ascii_digit()).unwrap_or(n.len());
        let (stem, k) = n.split_at(digits);
        (stem != "W", stem.to_string(), k.parse::<usize>().unwrap_or(usize::MAX))
    });
    Ok(out)
}
