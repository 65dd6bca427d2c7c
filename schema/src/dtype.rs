//! The feature dtype grammar (SPEC §5): parse, validate, display.
//!
//! ```text
//! dtype    := scalar | "cat" | "cat[" registry ("|" registry)* "]" | "list[" dtype "]"
//! scalar   := "int" | "float" | "num" | "number" | "bool" | "str" | "date" | "datetime"
//! registry := identifier ("." identifier)*       e.g. ULabel, bionty.CellType
//! ```

use std::fmt;
use std::str::FromStr;

/// A feature's data type (stored as its string, e.g. `cat[ULabel]`).
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum Dtype {
    /// Integers.
    Int,
    /// Floating point numbers.
    Float,
    /// Any number (`num` or `number`).
    Num,
    /// Booleans.
    Bool,
    /// Free text.
    Str,
    /// Calendar dates.
    Date,
    /// Timestamps.
    Datetime,
    /// Categorical; the registries its values come from (empty = not yet linked).
    Cat(Vec<String>),
    /// A list of values of the inner dtype.
    List(Box<Dtype>),
}

/// A dtype string that does not follow the grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid dtype '{input}': {reason}")]
pub struct DtypeError {
    /// The string that was given.
    pub input: String,
    /// What is wrong and what to write instead.
    pub reason: String,
}

const SCALARS: [&str; 8] = [
    "int", "float", "num", "number", "bool", "str", "date", "datetime",
];
const HELP: &str = "use one of int, float, num, bool, str, date, datetime, cat, cat[ULabel], \
                    cat[A|B], cat[ULabel[NAME]], list[<dtype>]";

impl Dtype {
    /// Parses a dtype string such as `"float"`, `"cat[ULabel]"` or `"list[int]"`.
    ///
    /// ```
    /// use lamella_schema::Dtype;
    /// assert_eq!(Dtype::parse("cat[ULabel]").unwrap(), Dtype::Cat(vec!["ULabel".into()]));
    /// assert!(Dtype::parse("flaot").unwrap_err().to_string().contains("did you mean 'float'"));
    /// ```
    pub fn parse(input: &str) -> Result<Dtype, DtypeError> {
        let err = |reason: String| DtypeError {
            input: input.to_string(),
            reason,
        };
        let s = input.trim();
        if s.is_empty() {
            return Err(err(format!("the dtype is empty: {HELP}")));
        }
        if let Some(inner) = bracketed(s, "list") {
            let inner = inner.map_err(err)?;
            return Dtype::parse(inner)
                .map(|d| Dtype::List(Box::new(d)))
                .map_err(|e| err(format!("inside list[…]: {}", e.reason)));
        }
        if let Some(inner) = bracketed(s, "cat") {
            let inner = inner.map_err(err)?;
            let mut registries = Vec::new();
            for part in inner.split('|') {
                let part = part.trim();
                if let Some((registry, branch)) = part.split_once('[') {
                    let (registry, branch) = (registry.trim(), branch.trim());
                    let Some(branch) = branch.strip_suffix(']').map(str::trim) else {
                        return Err(err(format!(
                            "unbalanced brackets in '{part}': write cat[ULabel[NAME]]"
                        )));
                    };
                    if !is_registry_name(registry)
                        || branch.is_empty()
                        || branch.contains(['[', ']'])
                    {
                        return Err(err(format!(
                            "'{part}' is not a registry with a branch: write cat[ULabel[NAME]], \
                             NAME being the label whose descendants are allowed"
                        )));
                    }
                    let part = format!("{registry}[{branch}]");
                    if !registries.contains(&part) {
                        registries.push(part);
                    }
                    continue;
                }
                if !is_registry_name(part) {
                    return Err(err(format!(
                        "'{part}' is not a registry name: write cat[ULabel] or cat[A|B] with \
                         registry names such as ULabel or bionty.CellType"
                    )));
                }
                if !registries.iter().any(|r| r == part) {
                    registries.push(part.to_string());
                }
            }
            return Ok(Dtype::Cat(registries));
        }
        match s {
            "int" => Ok(Dtype::Int),
            "float" => Ok(Dtype::Float),
            "num" | "number" => Ok(Dtype::Num),
            "bool" => Ok(Dtype::Bool),
            "str" => Ok(Dtype::Str),
            "date" => Ok(Dtype::Date),
            "datetime" => Ok(Dtype::Datetime),
            "cat" => Ok(Dtype::Cat(Vec::new())),
            other => {
                let lower = other.to_ascii_lowercase();
                let best = SCALARS
                    .iter()
                    .chain(["cat"].iter())
                    .map(|c| (strsim::levenshtein(&lower, c), *c))
                    .min();
                match best {
                    Some((d, c)) if d <= 2 || lower == *c => {
                        Err(err(format!("unknown dtype, did you mean '{c}'? ({HELP})")))
                    }
                    _ => Err(err(format!("unknown dtype: {HELP}"))),
                }
            }
        }
    }

    /// Whether this is a categorical dtype (`cat`, `cat[…]`).
    pub fn is_categorical(&self) -> bool {
        matches!(self, Dtype::Cat(_))
    }

    /// Whether this is a list of categories (`list[cat[ULabel]]`): each element a label.
    pub fn is_categorical_list(&self) -> bool {
        matches!(self, Dtype::List(inner) if inner.is_categorical())
    }

    /// Whether this dtype is numeric (`int`, `float`, `num`).
    pub fn is_numeric(&self) -> bool {
        matches!(self, Dtype::Int | Dtype::Float | Dtype::Num)
    }

    /// The registries a categorical dtype draws from, each with the label its values must
    /// descend from (`cat[ULabel[is_species]]` → `[("ULabel", Some("is_species"))]`); empty
    /// for plain `cat` and for other dtypes. A list of categories (`list[cat[ULabel]]`) has
    /// its elements' categories.
    pub fn categories(&self) -> Vec<(&str, Option<&str>)> {
        match self {
            Dtype::List(inner) => inner.categories(),
            Dtype::Cat(regs) => regs
                .iter()
                .map(|r| match r.split_once('[') {
                    Some((reg, branch)) => (reg, branch.strip_suffix(']')),
                    None => (r.as_str(), None),
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether values inferred as `inferred` (from a table's column) validate under `self`,
    /// the dtype a feature is registered with: the same dtype; text or plain categories under
    /// any categorical dtype (the registered one is the stricter); categories as text; ints
    /// as floats or numbers; floats as numbers; lists element by element.
    ///
    /// ```
    /// use lamella_schema::Dtype;
    /// let strict: Dtype = "cat[ULabel[is_species]]".parse().unwrap();
    /// assert!(strict.accepts(&"str".parse().unwrap()));
    /// assert!(Dtype::Float.accepts(&Dtype::Int));
    /// assert!(!Dtype::Int.accepts(&Dtype::Float));
    /// ```
    pub fn accepts(&self, inferred: &Dtype) -> bool {
        match (self, inferred) {
            (a, b) if a == b => true,
            (Dtype::Cat(_), Dtype::Str | Dtype::Cat(_)) => true,
            (Dtype::Str, Dtype::Cat(_)) => true,
            (Dtype::Float | Dtype::Num, Dtype::Int) => true,
            (Dtype::Num, Dtype::Float) => true,
            (Dtype::List(a), Dtype::List(b)) => a.accepts(b),
            _ => false,
        }
    }

    /// `cat` widened to draw from `registry` too (`cat` → `cat[ULabel]`); a dtype that
    /// already names the registry (with or without a branch), or that is not categorical,
    /// is returned as it is.
    pub fn with_registry(&self, registry: &str) -> Dtype {
        match self {
            Dtype::List(inner) if inner.is_categorical() => {
                Dtype::List(Box::new(inner.with_registry(registry)))
            }
            Dtype::Cat(regs) if !self.categories().iter().any(|(r, _)| *r == registry) => {
                let mut regs = regs.clone();
                regs.push(registry.to_string());
                Dtype::Cat(regs)
            }
            other => other.clone(),
        }
    }
}

/// `Some(Ok(inner))` for `name[inner]`, `Some(Err)` for a malformed bracket, `None` otherwise.
fn bracketed<'a>(s: &'a str, name: &str) -> Option<Result<&'a str, String>> {
    let rest = s.strip_prefix(name)?.trim_start();
    if !rest.starts_with('[') {
        return None;
    }
    Some(
        match rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            Some(inner) if !inner.trim().is_empty() => Ok(inner.trim()),
            Some(_) => Err(format!("{name}[…] is empty: {HELP}")),
            None => Err(format!("unbalanced brackets in {name}[…]: {HELP}")),
        },
    )
}

fn is_registry_name(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            let mut chars = part.chars();
            matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dtype::Int => f.write_str("int"),
            Dtype::Float => f.write_str("float"),
            Dtype::Num => f.write_str("num"),
            Dtype::Bool => f.write_str("bool"),
            Dtype::Str => f.write_str("str"),
            Dtype::Date => f.write_str("date"),
            Dtype::Datetime => f.write_str("datetime"),
            Dtype::Cat(regs) if regs.is_empty() => f.write_str("cat"),
            Dtype::Cat(regs) => write!(f, "cat[{}]", regs.join("|")),
            Dtype::List(inner) => write!(f, "list[{inner}]"),
        }
    }
}

impl FromStr for Dtype {
    type Err = DtypeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dtype::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays_round_trip() {
        for s in [
            "int",
            "float",
            "num",
            "bool",
            "str",
            "date",
            "datetime",
            "cat",
            "cat[ULabel]",
            "cat[ULabel|bionty.CellType]",
            "list[int]",
            "list[cat[ULabel]]",
            "cat[ULabel[is_species]]",
            "cat[ULabel[Study 0: initial plant gathering]|bionty.CellType]",
        ] {
            assert_eq!(Dtype::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(Dtype::parse("number").unwrap(), Dtype::Num);
        assert_eq!(
            Dtype::parse(" cat[ A | B ] ").unwrap().to_string(),
            "cat[A|B]"
        );
    }

    #[test]
    fn rejects_bad_strings_with_help() {
        let cases = [
            ("", "empty"),
            ("flaot", "did you mean 'float'"),
            ("Int", "did you mean 'int'"),
            ("integer64", "unknown dtype"),
            ("cat[", "unbalanced"),
            ("cat[]", "empty"),
            ("cat[1abc]", "not a registry name"),
            ("cat[A||B]", "not a registry name"),
            ("list[flot]", "inside list"),
            ("cat[ULabel[]]", "not a registry with a branch"),
            ("cat[ULabel[x]", "unbalanced"),
        ];
        for (input, needle) in cases {
            let e = Dtype::parse(input).unwrap_err();
            assert!(e.to_string().contains(needle), "{input}: {e}");
            assert!(e.to_string().contains(&format!("'{input}'")), "{e}");
        }
    }

    #[test]
    fn widening_cat() {
        let d = Dtype::parse("cat").unwrap();
        assert_eq!(d.with_registry("ULabel").to_string(), "cat[ULabel]");
        let d = Dtype::parse("cat[ULabel]").unwrap();
        assert_eq!(d.with_registry("ULabel").to_string(), "cat[ULabel]");
        assert_eq!(Dtype::Float.with_registry("ULabel"), Dtype::Float);
        let d = Dtype::parse("cat[ULabel[is_species]]").unwrap();
        assert_eq!(d.with_registry("ULabel"), d);
        assert_eq!(d.categories(), [("ULabel", Some("is_species"))]);
    }
}
