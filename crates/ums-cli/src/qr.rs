//! `ums qr [--svg] [--invert] <text|->`: the QR code of a text (a
//! `billQRCode`, ...) drawn in the terminal with Unicode half blocks, two
//! modules per character cell, or as an SVG document, for an operator who
//! wants to check what a customer will scan.

use crate::args::{Args, Spec};
use crate::{input, output, EXIT_LOCAL, EXIT_OK};
use qrcode::render::{svg, unicode::Dense1x2};
use qrcode::{EcLevel, QrCode};

pub const SPEC: Spec = Spec {
    flags: &["--svg", "--invert"],
    valued: &[],
};

/// Largest text read from stdin: more than any QR code holds.
const MAX_TEXT_BYTES: usize = 8192;

/// The SVG's smallest width and height in pixels.
const SVG_MIN_PIXELS: u32 = 256;

pub fn help() -> String {
    "\
usage: ums qr [--svg] [--invert] <text|->

Prints the QR code of a text, e.g. the billQRCode an update-qrcode answer
carries, to check what a customer will scan: drawn in the terminal with
Unicode half blocks (two modules per character; a UTF-8 terminal and a
monospace font), with the 4-module quiet zone scanners need. `-` reads the
text from stdin (trailing line endings dropped). Error correction level M,
as ChinaUMS's own codes.

By default the light modules are drawn, for light text on a dark terminal
background; with --invert the dark ones are, for a light background. Most
scanning apps read both.

options:
  --svg        print an SVG document instead (black on white), e.g.
               `ums qr --svg \"$URL\" > bill.svg`
  --invert     draw the dark modules (for a terminal with a light background)
  -h, --help   this help

exit codes: 0 printed; 2 usage error (no text, or an empty one); 5 the text
does not fit in a QR code (at most 2331 bytes), or stdin cannot be read.

example:
  ums call update-qrcode req.json | jq -r .billQRCode | ums qr -"
        .to_string()
}

/// The text to encode, from the argument or stdin; `Err` when stdin
/// cannot be read.
fn read_text(source: &str) -> Result<Vec<u8>, String> {
    if source != "-" {
        return Ok(source.as_bytes().to_vec());
    }
    let mut bytes = input::read(source, MAX_TEXT_BYTES + 1)?;
    while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        bytes.pop();
    }
    Ok(bytes)
}

/// The code drawn with half blocks; `draw_dark`: the dark modules are the
/// drawn (foreground) ones.
fn terminal_image(code: &QrCode, draw_dark: bool) -> String {
    let (dark, light) = if draw_dark {
        (Dense1x2::Dark, Dense1x2::Light)
    } else {
        (Dense1x2::Light, Dense1x2::Dark)
    };
    code.render::<Dense1x2>()
        .dark_color(dark)
        .light_color(light)
        .quiet_zone(true)
        .build()
}

pub fn run(_global: &crate::settings::Global, args: &Args) -> Result<u8, String> {
    let [source] = args.positionals.as_slice() else {
        return Err(format!(
            "needs exactly one argument, <text|-> (got {})",
            args.positionals.len()
        ));
    };
    let text = match read_text(source) {
        Ok(text) => text,
        Err(message) => {
            output::err(&format!("ums qr: {message}"));
            return Ok(EXIT_LOCAL);
        }
    };
    if text.is_empty() {
        return Err("the text is empty".into());
    }
    let code = match QrCode::with_error_correction_level(&text, EcLevel::M) {
        Ok(code) => code,
        Err(e) => {
            output::err(&format!(
                "ums qr: the text ({} bytes) does not fit in a QR code: {e}",
                text.len()
            ));
            return Ok(EXIT_LOCAL);
        }
    };
    let image = if args.flag("--svg") {
        code.render::<svg::Color>()
            .min_dimensions(SVG_MIN_PIXELS, SVG_MIN_PIXELS)
            .quiet_zone(true)
            .build()
    } else {
        terminal_image(&code, args.flag("--invert"))
    };
    output::out(&image);
    Ok(EXIT_OK)
}
