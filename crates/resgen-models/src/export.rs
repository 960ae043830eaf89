//! Saving weights: Burn's own burnpack format, and safetensors for NumPy and PyTorch.
//!
//! The safetensors file is written by hand (an 8-byte little-endian header length, a JSON
//! header, then the raw little-endian tensors), which is the whole format; it names the
//! tensors `W1 .. W{L+1}` in the paper's `[fan_out, fan_in]` layout.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use burn::module::{Module, Param};
use burn::tensor::Tensor;

use crate::{Net, Precision, to_host};

/// The weights as a Burn module, so Burn's own file format can store them.
#[derive(Module, Debug)]
struct Weights {
    layers: Vec<Param<Tensor<2>>>,
}

/// Saves the weights in Burn's burnpack format (`Module::save_file`).
pub fn save_burnpack(net: &Net, path: &Path) -> Result<(), String> {
    let module = Weights { layers: net.weights.iter().map(|w| Param::from_tensor(w.clone())).collect() };
    module.save_file(path).map_err(|e| format!("{}: cannot save burnpack: {e:?}", path.display()))
}

/// Reads weights saved by [`save_burnpack`] into a network of `template`'s configuration and
/// shapes (its own weights are replaced); a file whose tensors do not fit is an error naming it.
pub fn load_burnpack(template: &Net, path: &Path) -> Result<Net, String> {
    let module = Weights { layers: template.weights.iter().map(|w| Param::from_tensor(w.clone())).collect() };
    let loaded = module.try_load_file(path).map_err(|e| format!("{}: cannot load burnpack: {e:?}", path.display()))?;
    let mut net = template.clone();
    net.weights = loaded.layers.into_iter().map(|p| p.val()).collect();
    Ok(net)
}

/// Writes `net`'s weights as safetensors, in its own precision, to `path` (not atomically;
/// callers write to a temporary name and rename).
pub fn save_safetensors(net: &Net, path: &Path) -> std::io::Result<()> {
    let dtype = match net.precision {
        Precision::F32 => "F32",
        Precision::F64 => "F64",
    };
    let mut header = BTreeMap::new();
    let mut body: Vec<u8> = Vec::new();
    for (i, w) in net.weights.iter().enumerate() {
        let shape = w.shape().dims::<2>();
        let start = body.len();
        for v in to_host(w.clone()) {
            match net.precision {
                Precision::F32 => body.extend_from_slice(&(v as f32).to_le_bytes()),
                Precision::F64 => body.extend_from_slice(&v.to_le_bytes()),
            }
        }
        header.insert(
            Net::matrix_name(net.cfg.depth, i + 1),
            serde_json::json!({"dtype": dtype, "shape": shape, "data_offsets": [start, body.len()]}),
        );
    }
    let mut meta = serde_json::Map::new();
    meta.insert("arch".into(), net.cfg.arch.name().into());
    meta.insert("theta".into(), net.theta.to_string().into());
    let mut json = serde_json::to_value(&header).expect("map");
    json.as_object_mut().expect("object").insert("__metadata__".into(), serde_json::Value::Object(meta));
    let mut text = serde_json::to_string(&json).expect("json").into_bytes();
    while text.len() % 8 != 0 {
        text.push(b' ');
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    f.write_all(&(text.len() as u64).to_le_bytes())?;
    f.write_all(&text)?;
    f.write_all(&body)?;
    f.flush()
}

/// One named tensor read back from a file: `(name, shape, values as f64)`.
pub type NamedTensor = (String, Vec<usize>, Vec<f64>);

/// Reads a safetensors file written by [`save_safetensors`]: `(name, shape, values)` per tensor,
/// in the order of the names `W1, W2, ..., W{L+1}`, then `V2, ..., VL` (two-layer branches).
pub fn load_safetensors(path: &Path) -> Result<Vec<NamedTensor>, String> {
    let err = |m: String| format!("{}: {m}", path.display());
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    if bytes.len() < 8 {
        return Err(err("too short for safetensors".into()));
    }
    let hlen = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    let header: serde_json::Value =
        serde_json::from_slice(bytes.get(8..8 + hlen).ok_or_else(|| err("truncated header".into()))?)
            .map_err(|e| err(e.to_string()))?;
    let body = &bytes[8 + hlen..];
    let mut out = Vec::new();
    for (name, v) in header.as_object().ok_or_else(|| err("header is not an object".into()))? {
        if name == "__metadata__" {
            continue;
        }
        let shape: Vec<usize> = serde_json::from_value(v["shape"].clone()).map_err(|e| err(e.to_string()))?;
        let off: [usize; 2] = serde_json::from_value(v["data_offsets"].clone()).map_err(|e| err(e.to_string()))?;
        let raw = body.get(off[0]..off[1]).ok_or_else(|| err(format!("{name}: offsets outside the file")))?;
        let values = match v["dtype"].as_str() {
            Some("F32") => raw.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64).collect(),
            Some("F64") => raw.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect(),
            other => return Err(err(format!("{name}: unsupported dtype {other:?}"))),
        };
        out.push((name.clone(), shape, values));
    }
    // W1..W{L+1} first, then the two-layer branches' V2..VL, each by number (the header's
    // own order is alphabetical: W10 before W2).
    out.sort_by_key(|(n, _, _)| (n.starts_with('V'), n[1..].parse::<usize>().unwrap_or(usize::MAX)));
    Ok(out)
}
