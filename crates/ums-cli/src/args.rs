//! Hand-written command-line parsing (std only).
//!
//! Options are long (`--name VALUE` or `--name=VALUE`); `-h` is `--help` and
//! `-V` is `--version`. `-` is a positional argument (stdin); `--` ends the
//! options. An option given twice, an unknown option, a flag with a value or
//! a valued option without one is a usage error.

/// The options one command accepts.
pub struct Spec {
    /// Options without a value (`--raw`).
    pub flags: &'static [&'static str],
    /// Options with a value (`--timestamp T`).
    pub valued: &'static [&'static str],
}

/// What was given on the command line.
#[derive(Debug, Default)]
pub struct Args {
    flags: Vec<&'static str>,
    values: Vec<(&'static str, String)>,
    pub positionals: Vec<String>,
}

impl Args {
    pub fn flag(&self, name: &str) -> bool {
        self.flags.contains(&name)
    }

    pub fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// True when `-h` or `--help` appears before a `--`.
pub fn wants_help(args: &[String]) -> bool {
    args.iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "-h" || a == "--help")
}

/// Parses `args` against `spec`.
pub fn parse(args: &[String], spec: &Spec) -> Result<Args, String> {
    let mut parsed = Args::default();
    let mut i = 0;
    let mut options_done = false;
    while i < args.len() {
        let arg = args[i].as_str();
        i += 1;
        if options_done || arg == "-" || !arg.starts_with('-') {
            parsed.positionals.push(arg.to_string());
            continue;
        }
        if arg == "--" {
            options_done = true;
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v)),
            _ => (arg, None),
        };
        if let Some(flag) = spec.flags.iter().copied().find(|f| *f == name) {
            if inline.is_some() {
                return Err(format!("{flag} takes no value"));
            }
            if parsed.flags.contains(&flag) {
                return Err(format!("{flag} is given twice"));
            }
            parsed.flags.push(flag);
        } else if let Some(option) = spec.valued.iter().copied().find(|o| *o == name) {
            let value = match inline {
                Some(v) => v.to_string(),
                None => {
                    let v = args
                        .get(i)
                        .ok_or_else(|| format!("{option} needs a value"))?;
                    i += 1;
                    v.clone()
                }
            };
            if parsed.value(option).is_some() {
                return Err(format!("{option} is given twice"));
            }
            parsed.values.push((option, value));
        } else {
            return Err(format!("unknown option `{name}`"));
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: Spec = Spec {
        flags: &["--raw"],
        valued: &["--nonce"],
    };

    fn v(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_flags_values_and_positionals() {
        let a = parse(
            &v(&["x", "--raw", "--nonce", "-n1", "-", "--", "--raw"]),
            &SPEC,
        )
        .unwrap();
        assert!(a.flag("--raw"));
        assert_eq!(a.value("--nonce"), Some("-n1"));
        assert_eq!(a.positionals, v(&["x", "-", "--raw"]));
        let a = parse(&v(&["--nonce=a=b"]), &SPEC).unwrap();
        assert_eq!(a.value("--nonce"), Some("a=b"));
    }

    #[test]
    fn rejects_bad_options() {
        for bad in [
            &["--raw", "--raw"][..],
            &["--raw=1"],
            &["--nonce"],
            &["--nonce", "a", "--nonce=b"],
            &["--what"],
            &["-x"],
        ] {
            assert!(parse(&v(bad), &SPEC).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn help_is_found_before_the_end_of_options() {
        assert!(wants_help(&v(&["a", "-h"])));
        assert!(wants_help(&v(&["--help"])));
        assert!(!wants_help(&v(&["--", "--help"])));
    }
}
