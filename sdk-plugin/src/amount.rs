//! Amounts in base units shown with decimals and a symbol.

/// Format an integer amount of base units (given as decimal digits) with `decimals` decimals,
/// trimming trailing zeros: `format_units("1500000000000000000", 18) == "1.5"`.
pub fn format_units(digits: &str, decimals: u8) -> String {
    let digits = digits.trim_start_matches('0');
    let decimals = decimals as usize;
    if digits.is_empty() {
        return "0".into();
    }
    let (int, frac) = if digits.len() > decimals {
        digits.split_at(digits.len() - decimals)
    } else {
        ("", digits)
    };
    let frac = format!("{frac:0>decimals$}");
    let frac = frac.trim_end_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    }
}

/// [`format_units`] followed by a space and `symbol`.
pub fn format_amount(digits: &str, decimals: u8, symbol: &str) -> String {
    format!("{} {symbol}", format_units(digits, decimals))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_decimals() {
        assert_eq!(format_units("1500000000000000000", 18), "1.5");
        assert_eq!(format_units("1", 18), "0.000000000000000001");
        assert_eq!(format_units("0", 18), "0");
        assert_eq!(format_units("1000", 0), "1000");
        assert_eq!(format_units("123456", 2), "1234.56");
        assert_eq!(format_amount("21000000000000", 18, "ETH"), "0.000021 ETH");
    }
}
