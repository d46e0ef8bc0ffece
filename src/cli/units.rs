//! SIZE arguments (`--max-output`, later `--max-body`): `1048576`, `512k`, `64MiB`, `1G`.

/// The largest SIZE accepted: 1 TiB, far beyond anything rotor buffers or streams.
pub(crate) const MAX_SIZE: u64 = 1 << 40;

/// Parses a size in bytes: a bare number, or a number with a unit: `k`/`KiB`, `M`/`MiB`,
/// `G`/`GiB` (powers of 1024; `KB`, `MB`, `GB` are powers of 1000).
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let err = || format!("invalid size `{text}`: expected e.g. 65536, 512KiB, 64MiB, 1GiB");
    let raw = text.trim();
    let split = raw
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let value: f64 = number.parse().map_err(|_| err())?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "kb" => 1000.0,
        "m" | "mib" => 1024.0 * 1024.0,
        "mb" => 1e6,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "gb" => 1e9,
        _ => return Err(err()),
    };
    let bytes = (value * scale).round();
    if !bytes.is_finite() || bytes < 1.0 {
        return Err(err());
    }
    if bytes > MAX_SIZE as f64 {
        return Err(format!("invalid size `{text}`: at most 1TiB"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("64m"), Ok(64 << 20));
        assert_eq!(parse_size("1.5k"), Ok(1536));
        assert_eq!(parse_size("2MB"), Ok(2_000_000));
        assert!(parse_size("0").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("lots").is_err());
        assert!(parse_size("2TiB").is_err());
        assert!(parse_size("1e400").is_err());
    }
}
