//! What `banca import` prints: the per-table table, the rounding report, the derived data,
//! the verification table and the one-line summary.

use std::io::Write;

use super::Outcome;

/// Rounding-report lines printed when no file is given (the file always has them all).
const ROUNDED_SHOWN: usize = 200;
/// Differing groups listed under the verification table.
const MISMATCHES_SHOWN: usize = 50;

/// Prints everything but the summary line.
pub fn print(
    out: &mut impl Write,
    o: &Outcome,
    report_file: Option<&std::path::Path>,
) -> std::io::Result<()> {
    if !o.verify_only {
        print_tables(out, o)?;
        print_rounded(out, o, report_file)?;
        let d = &o.derived;
        writeln!(
            out,
            "derived data: {} sorteos rebuilt ({} running-total rows, {} per-number sales rows, {} rollup rows){}",
            d.sorteos,
            d.counter_rows,
            d.number_sales_rows,
            d.rollup_rows,
            match d.sequence_moved_to {
                Some(v) => format!("; ticket-number sequence moved to {v}"),
                None => String::new(),
            }
        )?;
        if o.numbers_padded > 0 {
            writeln!(
                out,
                "bet numbers: {} zero-padded to the sorteo's digits (\"7\" → \"07\")",
                o.numbers_padded
            )?;
        }
    }
    if let Some(v) = &o.verification {
        print_verification(out, v)?;
    }
    Ok(())
}

fn print_tables(out: &mut impl Write, o: &Outcome) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<26} {:<24} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "table", "from", "legacy", "skipped", "new", "updated", "unchanged"
    )?;
    for t in &o.tables {
        writeln!(
            out,
            "{:<26} {:<24} {:>9} {:>9} {:>9} {:>9} {:>9}",
            t.target,
            format!("\"{}\"", t.legacy),
            t.legacy_rows,
            t.skipped,
            t.inserted,
            t.updated,
            t.unchanged()
        )?;
    }
    for t in o.tables.iter().filter(|t| t.skipped > 0) {
        writeln!(
            out,
            "  skipped in \"{}\": {} row{} — {}",
            t.legacy,
            t.skipped,
            if t.skipped == 1 { "" } else { "s" },
            t.skip_reason
        )?;
    }
    Ok(())
}

fn print_rounded(
    out: &mut impl Write,
    o: &Outcome,
    report_file: Option<&std::path::Path>,
) -> std::io::Result<()> {
    let n = o.rounded.len();
    match report_file {
        Some(p) => writeln!(
            out,
            "rounding: {n} value{} not already whole cents, listed in {}",
            if n == 1 { " was" } else { "s were" },
            p.display()
        )?,
        None => {
            writeln!(
                out,
                "rounding: {n} value{} not already whole cents{}",
                if n == 1 { " was" } else { "s were" },
                if n > 0 { ":" } else { "" }
            )?;
            if n > 0 {
                writeln!(out, "  table,column,id,original,stored")?;
            }
            for r in o.rounded.iter().take(ROUNDED_SHOWN) {
                writeln!(
                    out,
                    "  {},{},{},{},{}",
                    r.table, r.column, r.id, r.original, r.stored
                )?;
            }
            if n > ROUNDED_SHOWN {
                writeln!(
                    out,
                    "  … {} more (use --rounding-report FILE for the full list)",
                    n - ROUNDED_SHOWN
                )?;
            }
        }
    }
    Ok(())
}

fn print_verification(
    out: &mut impl Write,
    v: &super::verify::Verification,
) -> std::io::Result<()> {
    writeln!(out, "verification — row counts")?;
    writeln!(
        out,
        "{:<26} {:<24} {:>10} {:>10}",
        "table", "from", "expected", "in Banca"
    )?;
    for c in &v.counts {
        writeln!(
            out,
            "{:<26} {:<24} {:>10} {:>10}  {}",
            c.target,
            format!("\"{}\"", c.legacy),
            c.expected,
            c.present,
            if c.expected == c.present {
                "ok"
            } else {
                "DIFFERENT"
            }
        )?;
    }
    writeln!(
        out,
        "verification — money per business day, compared per entity (banca, ventana, vendedor); tolerance = Σ rounding of the legacy rows"
    )?;
    writeln!(
        out,
        "{:<36} {:<10} {:>18} {:>18} {:>14} {:>14} {:>7}",
        "metric", "day", "legacy", "Banca", "difference", "tolerance", "groups"
    )?;
    for m in &v.metrics {
        writeln!(
            out,
            "{:<36} {:<10} {:>18} {:>18} {:>14} {:>14} {:>7}  {}",
            m.metric,
            m.period,
            m.legacy.normalize(),
            m.banca.normalize(),
            (m.banca - m.legacy).normalize(),
            m.tolerance.normalize(),
            m.groups,
            if m.differing == 0 {
                "ok".to_string()
            } else {
                format!("{} DIFFERENT", m.differing)
            }
        )?;
    }
    if !v.mismatches.is_empty() {
        writeln!(out, "groups beyond tolerance:")?;
        for m in v.mismatches.iter().take(MISMATCHES_SHOWN) {
            writeln!(
                out,
                "  {} {} {} {}: legacy {} Banca {} (tolerance {})",
                m.metric,
                m.day,
                m.level,
                m.entity
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "(none)".into()),
                m.legacy.normalize(),
                m.banca.normalize(),
                m.tolerance.normalize()
            )?;
        }
        if v.mismatches.len() > MISMATCHES_SHOWN {
            writeln!(out, "  … {} more", v.mismatches.len() - MISMATCHES_SHOWN)?;
        }
    }
    Ok(())
}

/// The one-line summary.
pub fn summary(o: &Outcome) -> String {
    let ms = o.elapsed.as_millis();
    let verification = match &o.verification {
        None => "verification skipped".to_string(),
        Some(v) if v.passed() => format!(
            "verification passed ({} tables, {} money groups)",
            v.counts.len(),
            v.groups
        ),
        Some(v) => {
            let tables = v.counts.iter().filter(|c| c.expected != c.present).count();
            format!(
                "verification FAILED ({} table count{} and {} money group{} differ)",
                tables,
                if tables == 1 { "" } else { "s" },
                v.mismatches.len(),
                if v.mismatches.len() == 1 { "" } else { "s" }
            )
        }
    };
    if o.verify_only {
        return format!("verify: {verification} ({ms} ms)");
    }
    let what = if o.inserted() == 0 && o.updated() == 0 {
        format!(
            "nothing new: 0 rows imported ({} rows already in Banca, unchanged)",
            o.unchanged()
        )
    } else {
        format!(
            "{} rows imported, {} updated, {} unchanged",
            o.inserted(),
            o.updated(),
            o.unchanged()
        )
    };
    format!(
        "{}{what}; {} value{} rounded to cents; {} sorteo{} rebuilt; {verification} ({ms} ms)",
        if o.dry_run {
            "import (dry run, nothing written): "
        } else {
            "import: "
        },
        o.rounded.len(),
        if o.rounded.len() == 1 { "" } else { "s" },
        o.derived.sorteos,
        if o.derived.sorteos == 1 { "" } else { "s" },
    )
}
