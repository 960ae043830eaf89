//! Data sources and every bad-input case, each checking its message.

use std::io::Write;
use std::path::PathBuf;

use resgen_data::{DataConfig, DataSource, HeaderMode, Teacher, load};

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::File::create(&p).unwrap().write_all(text.as_bytes()).unwrap();
    p
}

fn csv_cfg(path: PathBuf) -> DataConfig {
    DataConfig {
        source: DataSource::Csv,
        path: Some(path),
        positive: vec!["1".into()],
        n_train: 3,
        n_test: 1,
        ..Default::default()
    }
}

fn err(cfg: &DataConfig) -> String {
    load(cfg).expect_err("should fail").to_string()
}

#[test]
fn mnist_pair_is_balanced_unit_norm_and_deterministic() {
    let cfg =
        DataConfig { source: DataSource::Mnist, task: "3v5".into(), n_train: 400, n_test: 300, ..Default::default() };
    let a = load(&cfg).unwrap();
    assert_eq!((a.train.n, a.test.n, a.train.d), (400, 300, 784));
    for set in [&a.train, &a.test] {
        for i in 0..set.n {
            let norm: f64 = set.row(i).iter().map(|v| v * v).sum::<f64>().sqrt();
            assert!((norm - 1.0).abs() < 1e-12);
        }
    }
    // 500 threes and 500 fives; 400 drawn without replacement: the +1 share is within a few
    // sampling standard deviations (sd ~ 0.02) of 1/2.
    assert!((a.train.positive_fraction() - 0.5).abs() < 0.1);
    assert_eq!(a, load(&cfg).unwrap(), "same seed, same split");
    let b = load(&DataConfig { seed: 1, ..cfg.clone() }).unwrap();
    assert_ne!(a.train, b.train, "another seed, another split");
    // 1000 examples of the pair: asking for more is an error that says how many there are.
    let e = err(&DataConfig { n_train: 900, n_test: 200, ..cfg.clone() });
    assert!(e.contains("1000 examples available"), "{e}");
    let odd = load(&DataConfig { task: "odd-even".into(), n_train: 2000, n_test: 1000, ..cfg }).unwrap();
    assert!((odd.train.positive_fraction() - 0.5).abs() < 0.05);
}

#[test]
fn sphere_teachers_give_both_classes_and_halfspace_is_separable() {
    for teacher in [Teacher::Halfspace, Teacher::Resnet, Teacher::Fc] {
        let cfg =
            DataConfig { source: DataSource::Sphere, teacher, d: 10, n_train: 300, n_test: 100, ..Default::default() };
        let s = load(&cfg).unwrap();
        let p = s.train.positive_fraction();
        assert!((0.3..0.7).contains(&p), "{teacher:?}: positive fraction {p}");
    }
    // The half-space teacher's labels are linearly separable through the origin: the
    // perceptron (which converges exactly on separable data, and cycles forever otherwise)
    // reaches zero errors on the training and test points together.
    let cfg = DataConfig { source: DataSource::Sphere, d: 10, n_train: 300, n_test: 100, ..Default::default() };
    let s = load(&cfg).unwrap();
    let pts: Vec<(&[f64], f64)> = (0..s.train.n)
        .map(|i| (s.train.row(i), s.train.y[i]))
        .chain((0..s.test.n).map(|i| (s.test.row(i), s.test.y[i])))
        .collect();
    let mut w = vec![0.0; 10];
    let mut clean_pass = false;
    for _ in 0..20_000 {
        let mut errors = 0;
        for (x, y) in &pts {
            if y * x.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() <= 0.0 {
                w.iter_mut().zip(*x).for_each(|(wi, xi)| *wi += y * xi);
                errors += 1;
            }
        }
        if errors == 0 {
            clean_pass = true;
            break;
        }
    }
    assert!(clean_pass, "the half-space labels were not separated");
    // The network teachers' labels are not (a check that the test can fail).
    let fc = load(&DataConfig { teacher: Teacher::Fc, ..cfg }).unwrap();
    let mut w = vec![0.0; 10];
    let mut last_errors = 0;
    for _ in 0..200 {
        last_errors = 0;
        for i in 0..fc.train.n {
            let (x, y) = (fc.train.row(i), fc.train.y[i]);
            if y * x.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() <= 0.0 {
                w.iter_mut().zip(x).for_each(|(wi, xi)| *wi += y * xi);
                last_errors += 1;
            }
        }
    }
    assert!(last_errors > 0, "the FC teacher's labels happened to be linearly separable");
    // Label noise flips about the asked fraction of the training labels and none of the test
    // labels: with rate 0.2 on 1500 labels the count of flips has sd ~ 15.5, so [240, 360] is
    // a band of almost 4 sd around 300.
    let base = DataConfig { source: DataSource::Sphere, d: 5, n_train: 1500, n_test: 500, ..Default::default() };
    let clean = load(&base).unwrap();
    let noisy = load(&DataConfig { label_noise: 0.2, ..base.clone() }).unwrap();
    assert_eq!(clean.train.x, noisy.train.x, "noise only touches labels");
    assert_eq!(clean.test.y, noisy.test.y, "test labels stay clean");
    let flips = clean.train.y.iter().zip(&noisy.train.y).filter(|(a, b)| a != b).count();
    assert!((240..360).contains(&flips), "{flips} flips");
    // At 0.5 the training labels are independent of the inputs: about half flipped.
    let random = load(&DataConfig { label_noise: 0.5, ..base.clone() }).unwrap();
    let flips = clean.train.y.iter().zip(&random.train.y).filter(|(a, b)| a != b).count();
    assert!((690..810).contains(&flips), "{flips} flips at 0.5");
}

#[test]
fn csv_with_header_label_column_and_standardization() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "t.csv", "label,a,b\ncat,1,100\ndog,2,300\ncat,3,200\ndog,4,400\ncat,5,500\n");
    let cfg = DataConfig {
        label_column: 0,
        positive: vec!["cat".into()],
        standardize: true,
        n_train: 4,
        n_test: 1,
        ..csv_cfg(p)
    };
    let s = load(&cfg).unwrap();
    assert_eq!(s.train.d, 2);
    assert_eq!(s.train.n + s.test.n, 5);
    // After standardization with training statistics each training column has mean 0,
    // before the rows are scaled to unit norm; all rows end with norm 1.
    for i in 0..s.train.n {
        let norm: f64 = s.train.row(i).iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-12);
    }
}

#[test]
fn standardization_uses_training_statistics() {
    // Columns (1, 2, 3, 4) and (100, 300, 200, 400): means 2.5 and 250, population sds
    // sqrt(1.25) and sqrt(12500). After standardizing, each training column has mean 0 and
    // variance 1; the test row (5, 500) is mapped with the training statistics:
    // (5 - 2.5) / sqrt(1.25) = 2.2360680 and (500 - 250) / sqrt(12500) = 2.2360680.
    let set = |x: Vec<f64>| resgen_data::Dataset { n: x.len() / 2, d: 2, y: vec![1.0; x.len() / 2], x };
    let mut split = resgen_data::Split {
        train: set(vec![1.0, 100.0, 2.0, 300.0, 3.0, 200.0, 4.0, 400.0]),
        test: set(vec![5.0, 500.0]),
    };
    resgen_data::standardize(&mut split);
    for j in 0..2 {
        let col: Vec<f64> = (0..4).map(|i| split.train.x[2 * i + j]).collect();
        let mean = col.iter().sum::<f64>() / 4.0;
        let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 4.0;
        assert!(mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-12, "column {j}: {mean} {var}");
    }
    let expect = 2.5 / 1.25f64.sqrt();
    assert!((split.test.x[0] - expect).abs() < 1e-12 && (split.test.x[1] - expect).abs() < 1e-12);
    assert!((expect - 2.2360680).abs() < 1e-7);
}

#[test]
fn ragged_row_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "r.csv", "1,2,1\n3,4,0\n5,6\n");
    let e = err(&csv_cfg(p));
    assert!(e.contains("r.csv:3") && e.contains("ragged") && e.contains("2 fields"), "{e}");
}

#[test]
fn non_numeric_field_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "n.csv", "1,2,1\n3,x7,0\n5,6,1\n");
    let e = err(&DataConfig { header: HeaderMode::No, ..csv_cfg(p) });
    assert!(e.contains("n.csv:2") && e.contains("column 2") && e.contains("'x7'"), "{e}");
}

#[test]
fn a_first_row_with_a_missing_value_is_data_not_a_header() {
    // Header detection: a row with numbers and an NA is data, and the NA is an error naming
    // line and column (it used to be skipped as a header, silently losing the row).
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "na.csv", "1,NA,1\n3,4,0\n5,6,1\n7,8,0\n");
    let e = err(&csv_cfg(p));
    assert!(e.contains("na.csv:1") && e.contains("column 2") && e.contains("missing value 'NA'"), "{e}");
    for (v, line) in [("", 3), ("?", 3), ("null", 3)] {
        let p = write(&dir, "m.csv", &format!("a,b,label\n1,2,1\n3,{v},0\n5,6,1\n"));
        let e = err(&csv_cfg(p));
        assert!(e.contains(&format!("m.csv:{line}")) && e.contains("missing value"), "{e}");
    }
    // A row of names is still a header.
    let p = write(&dir, "h.csv", "x1,x2,y\n1,2,1\n3,4,0\n5,6,1\n7,8,0\n");
    assert_eq!(load(&csv_cfg(p)).unwrap().train.n, 3);
}

#[test]
fn bundled_mnist_needs_no_file_on_disk() {
    // Without a path the bundled subset is read from the copy compiled into the library.
    let cfg = DataConfig { source: DataSource::Mnist, n_train: 10, n_test: 10, ..Default::default() };
    assert_eq!(cfg.resolved_path(), PathBuf::from(resgen_data::BUNDLED_MNIST_SOURCE));
    let s = load(&cfg).unwrap();
    assert_eq!((s.train.n, s.train.d, s.test.n), (10, 784, 10));
}

#[test]
fn nan_and_inf_are_rejected_with_their_position() {
    let dir = tempfile::tempdir().unwrap();
    for (name, v) in [("nan.csv", "NaN"), ("inf.csv", "inf")] {
        let p = write(&dir, name, &format!("1,2,1\n3,4,0\n{v},6,1\n"));
        let e = err(&csv_cfg(p));
        assert!(e.contains(&format!("{name}:3")) && e.contains("column 1") && e.contains("not finite"), "{e}");
    }
}

#[test]
fn empty_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "e.csv", "");
    let e = err(&csv_cfg(p));
    assert!(e.contains("e.csv") && e.contains("no data rows"), "{e}");
    let h = write(&dir, "h.csv", "a,b,label\n");
    let e = err(&csv_cfg(h));
    assert!(e.contains("no data rows"), "{e}");
}

#[test]
fn single_class_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "s.csv", "1,2,1\n3,4,1\n5,6,1\n7,8,1\n");
    let e = err(&csv_cfg(p));
    assert!(e.contains("every label is +1"), "{e}");
}

#[test]
fn unknown_label_is_an_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "u.csv", "1,2,1\n3,4,0\n5,6,7\n7,8,0\n");
    let e = err(&DataConfig { negative: vec!["0".into()], ..csv_cfg(p) });
    assert!(e.contains("u.csv:3") && e.contains("label '7'"), "{e}");
    // MNIST: a label outside the digits.
    let bad = write(&dir, "m.csv", "1,2,3\n3,4,5\n5,6,12\n");
    let e =
        err(&DataConfig { source: DataSource::Mnist, path: Some(bad), n_train: 1, n_test: 0, ..Default::default() });
    assert!(e.contains("m.csv:3") && e.contains("label '12'") && e.contains("digits 0-9"), "{e}");
}

#[test]
fn bad_config_values_name_the_field() {
    let e = err(&DataConfig { task: "3v3".into(), ..Default::default() });
    assert!(e.contains("data.task"), "{e}");
    let e = err(&DataConfig { label_noise: 0.7, ..Default::default() });
    assert!(e.contains("data.label_noise"), "{e}");
    let e = err(&DataConfig { source: DataSource::Csv, positive: vec!["1".into()], ..Default::default() });
    assert!(e.contains("data.path"), "{e}");
    let e =
        err(&DataConfig { source: DataSource::Mnist, path: Some("/no/such/file.csv".into()), ..Default::default() });
    assert!(e.contains("/no/such/file.csv") && e.contains("cannot read"), "{e}");
}

#[test]
fn gzip_files_are_read() {
    use flate2::Compression;
    use flate2::write::GzEncoder;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("z.csv.gz");
    let mut enc = GzEncoder::new(std::fs::File::create(&p).unwrap(), Compression::default());
    enc.write_all(b"1,2,1\n3,4,0\n5,6,1\n7,8,0\n").unwrap();
    enc.finish().unwrap();
    let s = load(&csv_cfg(p)).unwrap();
    assert_eq!((s.train.n, s.test.n, s.train.d), (3, 1, 2));
}
