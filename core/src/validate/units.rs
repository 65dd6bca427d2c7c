//! Units: parsing unit strings (`mm`, `mg/L`, `m^2`, `µM`, `ms`) into a dimension and a factor
//! to SI, so that validation can tell whether two units convert and by what factor.
//!
//! A table of SI prefixes and the units scientific tables use; no runtime units library on
//! crates.io fits (see ARCHITECTURE.md). Units with an offset (°C, °F) have no factor and only
//! compare by spelling.

/// Base dimensions: length, mass, time, amount, current, temperature, luminous intensity.
type Dim = [i8; 7];

const PREFIXES: [(&str, f64); 20] = [
    ("Y", 1e24),
    ("Z", 1e21),
    ("E", 1e18),
    ("P", 1e15),
    ("T", 1e12),
    ("G", 1e9),
    ("M", 1e6),
    ("k", 1e3),
    ("h", 1e2),
    ("da", 1e1),
    ("d", 1e-1),
    ("c", 1e-2),
    ("m", 1e-3),
    ("µ", 1e-6),
    ("μ", 1e-6),
    ("u", 1e-6),
    ("n", 1e-9),
    ("p", 1e-12),
    ("f", 1e-15),
    ("a", 1e-18),
];

/// `(symbol, dimension, factor to SI, takes prefixes)`.
const UNITS: &[(&str, Dim, f64, bool)] = &[
    ("m", [1, 0, 0, 0, 0, 0, 0], 1.0, true),
    ("g", [0, 1, 0, 0, 0, 0, 0], 1e-3, true),
    ("s", [0, 0, 1, 0, 0, 0, 0], 1.0, true),
    ("mol", [0, 0, 0, 1, 0, 0, 0], 1.0, true),
    ("A", [0, 0, 0, 0, 1, 0, 0], 1.0, true),
    ("K", [0, 0, 0, 0, 0, 1, 0], 1.0, true),
    ("cd", [0, 0, 0, 0, 0, 0, 1], 1.0, true),
    ("L", [3, 0, 0, 0, 0, 0, 0], 1e-3, true),
    ("l", [3, 0, 0, 0, 0, 0, 0], 1e-3, true),
    ("M", [-3, 0, 0, 1, 0, 0, 0], 1e3, true),
    ("Hz", [0, 0, -1, 0, 0, 0, 0], 1.0, true),
    ("N", [1, 1, -2, 0, 0, 0, 0], 1.0, true),
    ("Pa", [-1, 1, -2, 0, 0, 0, 0], 1.0, true),
    ("J", [2, 1, -2, 0, 0, 0, 0], 1.0, true),
    ("W", [2, 1, -3, 0, 0, 0, 0], 1.0, true),
    ("V", [2, 1, -3, 0, -1, 0, 0], 1.0, true),
    ("Da", [0, 1, 0, 0, 0, 0, 0], 1.660_539_066_60e-27, true),
    ("min", [0, 0, 1, 0, 0, 0, 0], 60.0, false),
    ("h", [0, 0, 1, 0, 0, 0, 0], 3600.0, false),
    ("d", [0, 0, 1, 0, 0, 0, 0], 86_400.0, false),
    ("day", [0, 0, 1, 0, 0, 0, 0], 86_400.0, false),
    ("in", [1, 0, 0, 0, 0, 0, 0], 0.0254, false),
    ("ft", [1, 0, 0, 0, 0, 0, 0], 0.3048, false),
    ("lb", [0, 1, 0, 0, 0, 0, 0], 0.453_592_37, false),
    ("%", [0; 7], 0.01, false),
    ("1", [0; 7], 1.0, false),
];

/// A parsed unit: its dimension and its factor to SI.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Unit {
    dim: Dim,
    factor: f64,
}

fn symbol(s: &str) -> Option<Unit> {
    let exact = UNITS.iter().find(|(sym, ..)| *sym == s);
    if let Some((_, dim, factor, _)) = exact {
        return Some(Unit {
            dim: *dim,
            factor: *factor,
        });
    }
    PREFIXES.iter().find_map(|(p, pf)| {
        let rest = s.strip_prefix(p)?;
        UNITS
            .iter()
            .find(|(sym, _, _, prefixed)| *prefixed && *sym == rest)
            .map(|(_, dim, factor, _)| Unit {
                dim: *dim,
                factor: factor * pf,
            })
    })
}

/// One factor such as `m^2`, `s-1` or `cm3`.
fn power(s: &str) -> Option<Unit> {
    let (base, exp) = match s.split_once('^') {
        Some((b, e)) => (b, e.parse::<i8>().ok()?),
        None => {
            let digits = s
                .char_indices()
                .find(|(_, c)| c.is_ascii_digit() || *c == '-')
                .map_or(s.len(), |(i, _)| i);
            if digits == 0 || digits == s.len() {
                (s, 1)
            } else {
                (&s[..digits], s[digits..].parse::<i8>().ok()?)
            }
        }
    };
    let u = symbol(base)?;
    let mut dim = u.dim;
    for d in &mut dim {
        *d = d.checked_mul(exp)?;
    }
    Some(Unit {
        dim,
        factor: u.factor.powi(i32::from(exp)),
    })
}

fn parse(unit: &str) -> Option<Unit> {
    let unit = unit.trim();
    if unit.is_empty() {
        return None;
    }
    let mut total = Unit {
        dim: [0; 7],
        factor: 1.0,
    };
    for (i, part) in unit.split('/').enumerate() {
        for factor in part.split(['*', '·', ' ', '.']).filter(|f| !f.is_empty()) {
            let u = power(factor)?;
            let sign: i8 = if i == 0 { 1 } else { -1 };
            for (t, d) in total.dim.iter_mut().zip(u.dim) {
                *t = t.checked_add(sign.checked_mul(d)?)?;
            }
            total.factor = if i == 0 {
                total.factor * u.factor
            } else {
                total.factor / u.factor
            };
        }
    }
    Some(total)
}

/// The factor that converts values in `from` into `to` (`mm` → `m`: 0.001), `None` when
/// either unit is not known or their dimensions differ.
pub fn conversion_factor(from: &str, to: &str) -> Option<f64> {
    let (a, b) = (parse(from)?, parse(to)?);
    (a.dim == b.dim).then(|| round_factor(a.factor / b.factor))
}

/// Rounds away the binary noise of prefix arithmetic (1e-3 / 1e-2 = 0.09999999999999999).
fn round_factor(f: f64) -> f64 {
    if f == 0.0 || !f.is_finite() {
        return f;
    }
    let digits = 12 - f.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits.clamp(-300, 300));
    (f * scale).round() / scale
}

/// Whether two unit spellings mean the same unit (`mL` and `ml`, `m/s` and `m s^-1`).
pub fn same_unit(a: &str, b: &str) -> bool {
    a.trim() == b.trim() || conversion_factor(a, b) == Some(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors() {
        assert_eq!(conversion_factor("mm", "m"), Some(0.001));
        assert_eq!(conversion_factor("m", "mm"), Some(1000.0));
        assert_eq!(conversion_factor("cm", "mm"), Some(10.0));
        assert_eq!(conversion_factor("mg/L", "g/L"), Some(0.001));
        assert_eq!(conversion_factor("µM", "mM"), Some(0.001));
        assert_eq!(conversion_factor("cm^2", "m2"), Some(0.0001));
        assert_eq!(conversion_factor("min", "s"), Some(60.0));
        assert_eq!(conversion_factor("kg", "g"), Some(1000.0));
        assert_eq!(conversion_factor("ms", "s"), Some(0.001));
        assert_eq!(conversion_factor("mL", "L"), Some(0.001));
        assert_eq!(conversion_factor("m", "s"), None);
        assert_eq!(conversion_factor("°C", "K"), None);
        assert_eq!(conversion_factor("furlong", "m"), None);
        assert!(same_unit("ml", "mL"));
        assert!(same_unit("m/s", "m s^-1"));
        assert!(!same_unit("mm", "m"));
    }
}
