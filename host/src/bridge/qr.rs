//! QR codes of bridge links, as SVG (for pages) and PNG (for anything else).

use qrcode::{EcLevel, QrCode};

/// Pixels per module of the PNG.
const SCALE: usize = 8;
/// Light modules around the code, as the QR standard asks.
const QUIET_ZONE: usize = 4;

fn code(text: &str) -> Result<QrCode, qrcode::types::QrError> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
}

/// The QR code of `text` as an SVG document.
pub fn svg(text: &str) -> Result<String, qrcode::types::QrError> {
    Ok(code(text)?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build())
}

/// The QR code of `text` as a greyscale PNG.
pub fn png(text: &str) -> Result<Vec<u8>, String> {
    let code = code(text).map_err(|e| e.to_string())?;
    let width = code.width();
    let colors = code.to_colors();
    let side = (width + 2 * QUIET_ZONE) * SCALE;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (x, y) = (i % width + QUIET_ZONE, i / width + QUIET_ZONE);
            for dy in 0..SCALE {
                let row = (y * SCALE + dy) * side;
                pixels[row + x * SCALE..row + (x + 1) * SCALE].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer
        .write_image_data(&pixels)
        .map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}
