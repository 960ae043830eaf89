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
    // Label noise flips about the asked fraction: with rate 0.2 on 2000 labels the count of
    // flips has sd ~ 18, so [300, 500] is a wide band around 400.
    let base = DataConfig { source: DataSource::Sphere, d: 5, n_train: 1500, n_test: 500, ..Default::default() };
    let clean = load(&base).unwrap();
    let noisy = load(&DataConfig { label_noise: 0.2, ..base.clone() }).unwrap();
    assert_eq!(clean.train.x, noisy.train.x, "noise only touches labels");
    let flips = clean.train.y.iter().zip(&noisy.train.y).filter(|(a, b)| a != b).count()
        + clean.test.y.iter().zip(&noisy.test.y).filter(|(a, b)| a != b).count();
    assert!((300..500).contains(&flips), "{flips} flips");
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
