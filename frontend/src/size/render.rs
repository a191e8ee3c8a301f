//! Size reports in three forms: JSON for machines, Markdown for a
//! pull-request comment, and one self-contained HTML page with a treemap for
//! people (inline SVG and CSS: no script, font or image is fetched, so it
//! opens offline and from a CI artifact).

use super::{OwnerKind, SizeReport};
use std::fmt::Write as _;

/// Bytes as people read them: "13.7 MB", "812 kB", "96 B" (powers of 1000,
/// as registries and `ls -lh --si` show image sizes).
pub fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if bytes >= 1_000_000 {
        format!("{:.1} MB", b / 1e6)
    } else if bytes >= 1_000 {
        format!("{:.0} kB", b / 1e3)
    } else {
        format!("{bytes} B")
    }
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0.0 %".into();
    }
    format!("{:.1} %", 100.0 * part as f64 / whole as f64)
}

fn owner_label(kind: OwnerKind, name: &str) -> String {
    match kind {
        OwnerKind::MainModule => format!("{name} (this module)"),
        OwnerKind::StandardLibrary => "standard library".into(),
        _ => name.to_string(),
    }
}

fn method_note(report: &SizeReport) -> &'static str {
    match report.method {
        super::Method::Pclntab => "Code and function tables are attributed from the stripped binary's pclntab; data sections are not attributed.",
        super::Method::PclntabAndTwinSymbols => "Code and function tables are attributed from the pclntab; data symbols from an unstripped twin of the same link.",
    }
}

/// `{"binaries": [report, …]}`, fields in the order `SizeReport` declares them.
pub fn json(reports: &[SizeReport]) -> String {
    #[derive(serde::Serialize)]
    struct Reports<'a> {
        binaries: &'a [SizeReport],
    }
    serde_json::to_string_pretty(&Reports { binaries: reports }).unwrap_or_default() + "\n"
}

/// The Markdown of a pull-request comment: per binary, the owners table and
/// the largest packages in a collapsed section.
pub fn markdown(reports: &[SizeReport]) -> String {
    let mut out = String::new();
    for report in reports {
        let total = report.file_bytes;
        let _ = writeln!(out, "### `{}`: {}\n", report.binary, human(total));
        let _ = writeln!(out, "| provided by | size | share |\n|---|---:|---:|");
        for owner in &report.owners {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                md_cell(&owner_label(owner.kind, &owner.name)),
                human(owner.bytes),
                percent(owner.bytes, total)
            );
        }
        let rest: u64 = report.not_attributed.iter().map(|p| p.bytes).sum();
        let _ = writeln!(
            out,
            "| not attributed | {} | {} |\n",
            human(rest),
            percent(rest, total)
        );
        let mut packages: Vec<(&str, &super::PackageSize)> = report
            .owners
            .iter()
            .flat_map(|o| o.packages.iter().map(move |p| (o.name.as_str(), p)))
            .collect();
        packages.sort_by(|a, b| {
            b.1.bytes
                .cmp(&a.1.bytes)
                .then(a.1.package.cmp(&b.1.package))
        });
        let _ = writeln!(
            out,
            "<details><summary>Largest packages</summary>\n\n| package | code | tables | data | embedded | total |\n|---|---:|---:|---:|---:|---:|"
        );
        for (_, p) in packages.iter().take(25) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                md_cell(&p.package),
                human(p.code),
                human(p.tables),
                human(p.data),
                human(p.embedded),
                human(p.bytes)
            );
        }
        let _ = writeln!(out, "\n</details>\n");
        let _ = writeln!(out, "{}\n", method_note(report));
    }
    out
}

fn md_cell(text: &str) -> String {
    format!("`{}`", text.replace('|', "\\|").replace('`', "'"))
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page's colours, one per kind of owner; packages of a module share its hue.
pub const MAIN_COLOUR: &str = "#1f77b4";
pub const STD_COLOUR: &str = "#7f8c8d";
pub const REST_COLOUR: &str = "#d9d9d9";
const DEPENDENCY_COLOURS: [&str; 6] = [
    "#e6550d", "#31a354", "#9467bd", "#d62728", "#bcbd22", "#17becf",
];

const WIDTH: f64 = 1200.0;
const HEIGHT: f64 = 640.0;

/// A self-contained HTML page: for each binary a treemap (area = bytes;
/// modules, then packages inside them) and the owners table.
pub fn html(reports: &[SizeReport]) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>golb size report</title>\n<style>\
body{font-family:sans-serif;margin:16px;color:#222;background:#fff}\
svg{display:block;border:1px solid #999}\
svg text{font-size:12px;fill:#fff;pointer-events:none}\
svg text.dark{fill:#222}\
table{border-collapse:collapse;margin:12px 0}td,th{padding:2px 10px;text-align:left}\
td.n{text-align:right}.swatch{display:inline-block;width:12px;height:12px;margin-right:6px}\
</style></head><body>\n",
    );
    for report in reports {
        let _ = writeln!(
            out,
            "<h1>{} <small>{}</small></h1>",
            html_escape(&report.binary),
            human(report.file_bytes)
        );
        out.push_str(&treemap(report));
        let _ = writeln!(out, "<p>{}</p>", method_note(report));
        out.push_str("<table><tr><th>provided by</th><th>size</th><th>share</th></tr>\n");
        for (label, colour, bytes) in top_level(report) {
            let _ = writeln!(
                out,
                "<tr><td><span class=\"swatch\" style=\"background:{colour}\"></span>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                html_escape(&label),
                human(bytes),
                percent(bytes, report.file_bytes)
            );
        }
        out.push_str("</table>\n");
    }
    out.push_str("</body></html>\n");
    out
}

/// (label, colour, bytes) of each top-level area: owners, then one area for
/// everything not attributed.
fn top_level(report: &SizeReport) -> Vec<(String, &'static str, u64)> {
    let mut dependency = 0;
    let mut areas: Vec<(String, &'static str, u64)> = report
        .owners
        .iter()
        .map(|o| {
            let colour = match o.kind {
                OwnerKind::MainModule => MAIN_COLOUR,
                OwnerKind::StandardLibrary => STD_COLOUR,
                OwnerKind::Dependency | OwnerKind::UnknownModule => {
                    dependency += 1;
                    DEPENDENCY_COLOURS[(dependency - 1) % DEPENDENCY_COLOURS.len()]
                }
            };
            (owner_label(o.kind, &o.name), colour, o.bytes)
        })
        .collect();
    let rest: u64 = report.not_attributed.iter().map(|p| p.bytes).sum();
    areas.push(("not attributed".into(), REST_COLOUR, rest));
    areas.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    areas
}

fn treemap(report: &SizeReport) -> String {
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"{WIDTH}\" height=\"{HEIGHT}\" role=\"img\" aria-label=\"size treemap of {}\">\n",
        html_escape(&report.binary)
    );
    let areas = top_level(report);
    let outer = squarify(
        &areas.iter().map(|a| a.2 as f64).collect::<Vec<_>>(),
        Rect {
            x: 0.0,
            y: 0.0,
            w: WIDTH,
            h: HEIGHT,
        },
    );
    for ((label, colour, bytes), rect) in areas.iter().zip(outer) {
        let inner_parts: Vec<(String, u64)> = match report
            .owners
            .iter()
            .find(|o| &owner_label(o.kind, &o.name) == label)
        {
            Some(owner) => owner
                .packages
                .iter()
                .map(|p| (p.package.clone(), p.bytes))
                .collect(),
            None => report
                .not_attributed
                .iter()
                .map(|p| (p.name.clone(), p.bytes))
                .collect(),
        };
        let _ = writeln!(
            svg,
            "<g class=\"owner\" data-name=\"{}\" data-bytes=\"{bytes}\">",
            html_escape(label)
        );
        // A 1-unit border shows the module's outline; its packages sit inside,
        // below an 18-unit title strip when there is room for one.
        let title = rect.h > 40.0 && rect.w > 60.0;
        let inside = Rect {
            x: rect.x + 1.0,
            y: rect.y + if title { 18.0 } else { 1.0 },
            w: (rect.w - 2.0).max(0.0),
            h: (rect.h - if title { 19.0 } else { 2.0 }).max(0.0),
        };
        let _ = writeln!(
            svg,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\" stroke=\"#fff\"><title>{}: {}</title></rect>",
            rect.x, rect.y, rect.w, rect.h, html_escape(label), human(*bytes)
        );
        let dark = if *colour == REST_COLOUR {
            " class=\"dark\""
        } else {
            ""
        };
        if title {
            let _ = writeln!(
                svg,
                "<text{dark} x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                rect.x + 4.0,
                rect.y + 13.0,
                html_escape(&fit(&format!("{label} {}", human(*bytes)), rect.w))
            );
        }
        let values: Vec<f64> = inner_parts.iter().map(|p| p.1 as f64).collect();
        for ((name, part_bytes), r) in inner_parts.iter().zip(squarify(&values, inside)) {
            let _ = writeln!(
                svg,
                "<rect class=\"part\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\" fill-opacity=\"0.75\" stroke=\"#fff\" stroke-width=\"0.5\"><title>{}: {}</title></rect>",
                r.x, r.y, r.w, r.h, html_escape(name), human(*part_bytes)
            );
            if r.w > 70.0 && r.h > 16.0 {
                let _ = writeln!(
                    svg,
                    "<text{dark} x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                    r.x + 3.0,
                    r.y + 13.0,
                    html_escape(&fit(short_name(name), r.w))
                );
            }
        }
        svg.push_str("</g>\n");
    }
    svg.push_str("</svg>\n");
    svg
}

/// The last path element is what tells packages of one module apart.
fn short_name(package: &str) -> &str {
    package.rsplit('/').next().unwrap_or(package)
}

/// Cuts a label to what fits `width` units at about 7 units a character.
fn fit(label: &str, width: f64) -> String {
    let max = ((width - 6.0) / 7.0).max(0.0) as usize;
    if label.chars().count() <= max {
        label.to_string()
    } else if max > 1 {
        label.chars().take(max - 1).collect::<String>() + "…"
    } else {
        String::new()
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

/// Squarified treemap (Bruls, Huizing, van Wijk 2000): lays `values`
/// (largest first) out in `rect`, row by row along the shorter side, keeping
/// rectangles close to square. Returns one rectangle per value, in order.
pub fn squarify(values: &[f64], rect: Rect) -> Vec<Rect> {
    let total: f64 = values.iter().sum();
    if total <= 0.0 || rect.w <= 0.0 || rect.h <= 0.0 {
        return values
            .iter()
            .map(|_| Rect {
                w: 0.0,
                h: 0.0,
                ..rect
            })
            .collect();
    }
    let scale = rect.w * rect.h / total;
    let areas: Vec<f64> = values.iter().map(|v| v * scale).collect();
    let mut out = Vec::with_capacity(values.len());
    let mut free = rect;
    let mut start = 0;
    while start < areas.len() {
        let side = free.w.min(free.h);
        let mut end = start + 1;
        while end < areas.len()
            && worst(&areas[start..=end], side) <= worst(&areas[start..end], side)
        {
            end += 1;
        }
        let row = &areas[start..end];
        let sum: f64 = row.iter().sum();
        if free.w >= free.h {
            // A column on the left.
            let w = if free.h > 0.0 { sum / free.h } else { 0.0 };
            let mut y = free.y;
            for a in row {
                let h = if w > 0.0 { a / w } else { 0.0 };
                out.push(Rect { x: free.x, y, w, h });
                y += h;
            }
            free = Rect {
                x: free.x + w,
                w: (free.w - w).max(0.0),
                ..free
            };
        } else {
            // A row on top.
            let h = if free.w > 0.0 { sum / free.w } else { 0.0 };
            let mut x = free.x;
            for a in row {
                let w = if h > 0.0 { a / h } else { 0.0 };
                out.push(Rect { x, y: free.y, w, h });
                x += w;
            }
            free = Rect {
                y: free.y + h,
                h: (free.h - h).max(0.0),
                ..free
            };
        }
        start = end;
    }
    out
}

/// The worst aspect ratio of a row of `areas` laid along `side`.
fn worst(areas: &[f64], side: f64) -> f64 {
    let sum: f64 = areas.iter().sum();
    let (min, max) = areas
        .iter()
        .fold((f64::MAX, 0.0f64), |(lo, hi), &a| (lo.min(a), hi.max(a)));
    if sum <= 0.0 || min <= 0.0 {
        return f64::MAX;
    }
    let s2 = side * side;
    (s2 * max / (sum * sum)).max(sum * sum / (s2 * min))
}

#[cfg(test)]
mod tests {
    use super::super::testbin::*;
    use super::super::*;
    use super::*;

    #[test]
    fn squarify_fills_the_rectangle_without_overlap() {
        let values = [500.0, 300.0, 120.0, 60.0, 15.0, 5.0];
        let frame = Rect {
            x: 0.0,
            y: 0.0,
            w: 600.0,
            h: 400.0,
        };
        let rects = squarify(&values, frame);
        let area: f64 = rects.iter().map(|r| r.w * r.h).sum();
        assert!((area - 240_000.0).abs() < 1e-6);
        for (v, r) in values.iter().zip(&rects) {
            assert!((r.w * r.h - v * 240.0).abs() < 1e-6, "{r:?} for {v}");
            assert!(
                r.x >= 0.0 && r.y >= 0.0 && r.x + r.w <= 600.0 + 1e-9 && r.y + r.h <= 400.0 + 1e-9
            );
        }
        for (i, a) in rects.iter().enumerate() {
            for b in &rects[i + 1..] {
                let overlap_w = (a.x + a.w).min(b.x + b.w) - a.x.max(b.x);
                let overlap_h = (a.y + a.h).min(b.y + b.h) - a.y.max(b.y);
                assert!(
                    overlap_w <= 1e-9 || overlap_h <= 1e-9,
                    "{a:?} overlaps {b:?}"
                );
            }
        }
        // Squarified: the biggest is no thinner than 1:3.
        let r = rects[0];
        assert!(r.w.max(r.h) / r.w.min(r.h) < 3.0, "{r:?}");
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(13_684_862), "13.7 MB");
        assert_eq!(human(812_345), "812 kB");
        assert_eq!(human(96), "96 B");
    }

    /// All three forms of a real report (examples/hello).
    #[test]
    fn three_forms_of_one_report() {
        let dir = repo().join("examples/hello");
        let binary = go_build(&dir, "./cmd/server", true, "");
        let (main, deps) = modules(&binary);
        let report = attribute(&Input {
            name: "server",
            binary: &binary,
            modules: names::Modules {
                main: &main,
                dependencies: &deps,
            },
            twin: None,
            embedded: &[],
        })
        .unwrap();
        let reports = [report];

        let parsed: serde_json::Value = serde_json::from_str(&json(&reports)).unwrap();
        let back: SizeReport = serde_json::from_value(parsed["binaries"][0].clone()).unwrap();
        assert_eq!(back, reports[0]);
        assert_eq!(parsed["binaries"][0]["method"], "pclntab");

        let md = markdown(&reports);
        assert!(md.starts_with("### `server`: "), "{md}");
        assert!(md.contains("| `standard library` | "), "{md}");
        assert!(
            md.contains("| `example.com/hello (this module)` | "),
            "{md}"
        );
        assert!(md.contains("| `runtime` | "), "{md}");

        let page = html(&reports);
        assert!(page.contains(STD_COLOUR) && page.contains(MAIN_COLOUR));
        // Self-contained: nothing to fetch (the SVG namespace is a name, not a request).
        for needle in ["src=", "href=", "@import", "url(", "<script"] {
            assert!(!page.contains(needle), "{needle} in the page");
        }
        assert_eq!(page.matches("<svg").count(), 1);
        assert!(page.matches("class=\"part\"").count() > 20);
    }
}
